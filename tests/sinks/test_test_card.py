"""`latentvj sinks --test`: the test card, paced, the right way up, and a loud failure when a sink cannot work."""
import subprocess
import sys


def test_the_test_card_goes_out_paced_and_the_right_way_up(tmp_path):
    import cv2

    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "sinks", "--test", f"png:{tmp_path}",
                        "--seconds", "0.5", "--size", "160x120"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "written 15, dropped 0, failures 0" in r.stdout
    frame = cv2.cvtColor(cv2.imread(str(tmp_path / "frame_000003.png")), cv2.COLOR_BGR2RGB)
    assert tuple(frame[2, 2]) == (255, 0, 0) and tuple(frame[2, -3]) == (0, 255, 0)
    assert tuple(frame[-3, 2]) == (0, 0, 255) and tuple(frame[-3, -3]) == (255, 255, 255)


def test_the_test_card_fails_loudly_when_a_sink_cannot_work():
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "sinks", "--test", "spout:x", "--seconds", "0.2"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Windows only" in r.stderr
