"""Rate limits on what senders can make the daemon log: refusals overall and per sender, one
traceback per distinct unexpected error a minute, python-osc's warnings through the same limit."""
import logging

from latentvj.daemon.control.log_limits import ErrorLog, LibraryWarnings, RefusalLimiter


def test_refusals_are_limited_overall_and_per_sender():
    lim = RefusalLimiter(rate=20)
    one = sum(lim.allow("a:1") for _ in range(100))
    assert one == 10  # one sender gets half of the second's budget
    others = sum(lim.allow(f"b:{k}") for k in range(100))
    assert others == 10 and lim.suppressed == 180  # the overall 20 is spent


def test_an_unexpected_error_logs_one_traceback_per_kind(caplog):
    errors = ErrorLog(logging.getLogger("test"))
    caplog.set_level(logging.ERROR)
    for _ in range(50):
        for exc_type in (ZeroDivisionError, KeyError):
            try:
                raise exc_type("x")
            except Exception as exc:
                errors.report(exc, "handling a packet")
    assert errors.count == 100
    assert len([r for r in caplog.records if r.exc_info]) == 2


def test_python_osc_warnings_go_through_the_limit():
    f = LibraryWarnings(rate=5)

    def record(path):
        return logging.LogRecord("root", logging.WARNING, path, 1, "Unhandled parameter type: c", None, None)

    passed = sum(f.filter(record("/x/site-packages/pythonosc/osc_message.py")) for _ in range(100))
    assert passed == 5
    assert f.filter(record("/x/daemon/engine.py"))  # everything else untouched
