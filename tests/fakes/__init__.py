"""Strict stand-ins for the texture-sharing libraries Linux cannot import (Syphon, SpoutGL).

They are put into sys.modules under the real names, keep the real call signatures (read from
syphon-python 0.2.0 and SpoutGL 0.1.1's sources), record what they are asked to do, and refuse
what the real libraries refuse or mishandle: a frame of the wrong shape or dtype, a buffer that
is not C-contiguous or too small, an unknown GL format, sending without an OpenGL context current
on the calling thread, publishing after stop. A MagicMock would accept all of that.
"""
