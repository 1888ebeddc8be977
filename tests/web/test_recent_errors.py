import logging

from latentvj.daemon.web.recent_errors import RecentErrors


def test_warnings_of_the_package_are_kept_newest_last_and_bounded():
    r = RecentErrors(keep=3).attach()
    try:
        log = logging.getLogger("latentvj.test")
        log.info("not kept")
        for k in range(5):
            log.warning("refused %d\nsecond line", k)
        logging.getLogger("elsewhere").error("not ours")
    finally:
        r.detach()
    lines = r.lines()
    assert r.count == 5 and len(lines) == 3
    assert [line.split(" ", 1)[1] for line in lines] == ["refused 2", "refused 3", "refused 4"]
