import platform

from latentvj.daemon.show.heap import give_back_freed_memory


def test_the_heap_is_trimmed_on_glibc_and_nothing_breaks_elsewhere():
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert give_back_freed_memory() is glibc
