import time

import cv2
import numpy as np

from latentvj.daemon.web.preview import PreviewSink


def test_nothing_is_encoded_without_a_watcher():
    s = PreviewSink()
    s.write_frame(np.zeros((64, 64, 4), np.uint8), 0)
    assert s.latest is None and s.encoded == 0


def test_at_most_fps_frames_a_second_of_the_newest_frame_downscaled():
    s = PreviewSink(fps=10, max_width=100)
    s.watchers = 1
    frame = np.zeros((240, 320, 4), np.uint8)
    frame[..., 0] = 255  # red, RGBA
    t0 = time.monotonic()
    k = 0
    while time.monotonic() - t0 < 0.5:
        s.write_frame(frame, k)
        k += 1
        time.sleep(0.005)
    assert 1 <= s.encoded <= 7 < k  # at 10 a second, not one per frame written
    img = cv2.imdecode(np.frombuffer(s.latest.jpeg, np.uint8), cv2.IMREAD_COLOR)  # (h, w, 3) BGR
    assert img.shape[1] <= 100 and img.shape[0] == -(-240 // 4)
    assert img[..., 2].mean() > 200 and img[..., 0].mean() < 50  # still red
    assert 0 < s.latest.index < k and abs(s.latest.wall - time.time()) < 2


def test_a_device_frame_is_copied_only_when_it_is_encoded():
    import torch

    s = PreviewSink(fps=1000)
    s.watchers = 1
    s.write_frame(torch.full((48, 64, 4), 200, dtype=torch.uint8), 7)  # (H, W, 4), as --gpu-texture hands it
    img = cv2.imdecode(np.frombuffer(s.latest.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (48, 64, 3) and abs(int(img.mean()) - 200) <= 2 and s.latest.index == 7
