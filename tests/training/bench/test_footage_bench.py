"""The footage benchmark's pure parts: pass or fail per target, the table, the frames it picks and
the contact sheet's layout (no video, no training)."""
import numpy as np

from latentvj.training.bench.footage_bench import (
    Row,
    format_table,
    pick,
    sheet_image,
    target_rows,
    time_row,
    verdict,
)

SONG = {"cuts_on_beat": 0.8, "source_cuts_on_beat": 0.95, "cuts_per_min": 20.0, "source_cuts_per_min": 40.0,
        "cuts_ratio": 0.5, "motion": 0.3, "source_motion": 0.1, "motion_ratio": 3.0, "flash_r": float("nan"),
        "source_flash_r": 0.6, "flash_ratio": float("nan")}


def test_verdict_bounds_are_inclusive_and_nan_fails():
    assert verdict(0.8, 0.8) == "pass"
    assert verdict(0.79, 0.8) == "FAIL"
    assert verdict(2.0, 0.5, 2.0) == "pass" and verdict(2.01, 0.5, 2.0) == "FAIL"
    assert verdict(float("nan"), 0.5) == "FAIL"  # e.g. no cuts at all: no cut timing to meet the target
    assert verdict(None, 0.5) == "n/a"


def test_target_rows_judge_each_figure_against_its_target():
    rows = target_rows({"sharpness_shown": 0.85, "realism": 0.6}, SONG)
    got = {r.what.split(",")[0].split(" over")[0]: r for r in rows}
    assert [r.verdict for r in rows] == ["pass", "FAIL", "pass", "pass", "FAIL", "FAIL"]
    assert got["cuts within a frame of a beat"].figure == "80% (source 95%)"
    assert got["cuts per minute"].figure == "0.50x (20.0 vs 40.0)"
    assert got["flash r with the kick"].figure.startswith("none")


def test_missing_scores_are_not_measured_not_failed():
    rows = target_rows({}, {})
    assert {r.verdict for r in rows} == {"n/a"}
    assert {r.figure for r in rows} == {"not measured"}


def test_time_row_has_a_limit_at_64_and_128_only():
    split = {"dataset": 60.0, "train": 1200.0}
    assert time_row(128, 59.0, split).verdict == "pass"
    assert time_row(64, 21.0, split).verdict == "FAIL"
    assert time_row(96, 5.0, split).verdict == "n/a"
    assert "dataset 1.0, train 20.0" in time_row(128, 21.0, split).figure


def test_format_table_aligns_columns_and_counts_judged_targets():
    text = format_table([Row("a", "1", ">= 1", "pass"), Row("longer name", "0", ">= 1", "FAIL"),
                         Row("b", "-", "-", "n/a")])
    lines = text.splitlines()
    assert lines[0].split() == ["target", "figure", "wanted"]
    assert lines[2].index("1") == lines[3].index("0")  # the figure column lines up
    assert lines[-1].strip() == "1 of 2 targets met"


def test_pick_spreads_evenly_and_keeps_the_ends():
    idx = np.arange(100, 200)
    p = pick(idx, 12)
    assert len(p) == 12 and p[0] == 100 and p[-1] == 199 and np.all(np.diff(p) > 0)
    assert list(pick(np.array([3, 4]), 12)) == [3, 4]


def test_sheet_image_holds_every_row_and_column():
    frames = np.zeros((5, 16, 16, 3), np.uint8)
    frames[:] = (201, 17, 99)  # a colour no label or background has
    img = sheet_image([("song", np.arange(5) / 30, [(["song", "source"], frames), (["song", "show"], frames)]),
                       ("train", np.arange(3) / 30, [(["train", "source"], frames[:3])])], tile=20)
    assert img.shape[1] == 150 + 5 * (20 + 4)
    assert img.shape[0] == 2 * (22 + 16) + 3 * (20 + 4)
    assert (img == (201, 17, 99)).all(-1).sum() == 13 * 20 * 20  # every tile drawn once
