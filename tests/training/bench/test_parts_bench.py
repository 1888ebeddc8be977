"""The parts benchmark decodes a run's show three ways on a song, and the source beside them."""
import numpy as np

from latentvj.training.bench.parts_bench import main, parts


def test_each_part_is_decoded_and_scored_beside_the_source(image_run, dataset, capsys):
    figures = parts(image_run, dataset)
    assert list(figures) == ["source", "both", "sound only", "footage only"]
    for f in figures.values():
        assert set(f) == {"motion", "cuts", "flash_r"} and f["motion"] >= 0 and f["cuts"] >= 0
    assert np.isfinite(figures["source"]["motion"])
    main([str(image_run), str(dataset)])
    assert "footage only" in capsys.readouterr().out
