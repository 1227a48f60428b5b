"""dflib: tested kernels for deepfake image detection notebooks.

Submodules are imported on demand (``from dflib import data``) so that importing the
package stays cheap; nothing heavy runs at import time.
"""

__version__ = "0.1.0"
