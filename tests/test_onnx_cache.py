"""The per-machine ONNX cache stays bounded: a user who reinstalls, retrains or keeps several
environments does not collect a new 30 MB model file each time, forever."""
import os
import time

import pytest

from nlp import onnx_cache

HOUR, DAY = 3600.0, 86400.0


def _file(folder, name, idle_s, now):
    path = folder / name
    path.write_bytes(b"onnx")
    os.utime(path, (now - idle_s, now - idle_s))
    return path


def test_each_kind_keeps_its_three_most_recently_used_models(tmp_path):
    now = time.time()
    passages = [_file(tmp_path, f"all-MiniLM-L6-v2-int8-{i:016x}.onnx", idle, now)
                for i, idle in enumerate([60, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY])]
    tuned = [_file(tmp_path, f"minilm-barrier-tuned-int8-{i:016x}.onnx", idle, now)
             for i, idle in enumerate([10, 20 * HOUR, 2 * DAY, 9 * DAY])]
    removed = onnx_cache.prune(tmp_path, now=now)
    assert sorted(removed) == sorted(passages[3:] + tuned[3:])
    assert all(p.exists() for p in passages[:3] + tuned[:3])


def test_a_model_used_within_the_hour_is_never_removed(tmp_path):
    """Another process may have just found the file and be about to open it."""
    now = time.time()
    recent = [_file(tmp_path, f"minilm-barrier-basetop-int8-{i:016x}.onnx", 60 * i, now) for i in range(6)]
    assert onnx_cache.prune(tmp_path, now=now) == []
    assert all(p.exists() for p in recent)


def test_a_kind_no_longer_made_goes_after_a_month_unused_and_so_do_abandoned_builds(tmp_path):
    now = time.time()
    legacy = _file(tmp_path, "minilm-barrier-int8-50d752490a843100.onnx", 31 * DAY, now)
    month_old_but_kept = _file(tmp_path, "minilm-barrier-int8-50d752490a843101.onnx", 29 * DAY, now)
    killed_build = tmp_path / "tmpabc123"
    killed_build.mkdir()
    (killed_build / "plain.onnx").write_bytes(b"half")
    os.utime(killed_build, (now - 2 * HOUR, now - 2 * HOUR))
    running_build = tmp_path / "tmpdef456"
    running_build.mkdir()
    user_file = _file(tmp_path, "notes.txt", 90 * DAY, now)
    removed = onnx_cache.prune(tmp_path, now=now)
    assert sorted(removed) == sorted([legacy, killed_build])
    assert month_old_but_kept.exists() and running_build.exists() and user_file.exists()


def test_using_a_model_marks_it_and_a_missing_or_read_only_cache_is_no_error(tmp_path):
    now = time.time()
    path = _file(tmp_path, f"all-MiniLM-L6-v2-int8-{0:016x}.onnx", 10 * DAY, now)
    onnx_cache.mark_used(path)
    assert now - path.stat().st_mtime < 60
    onnx_cache.mark_used(tmp_path / "gone.onnx")
    assert onnx_cache.prune(tmp_path / "no-such-folder") == []


def _tiny_model(path):
    """A real, minimal ONNX graph (y = x), standing in for a cached MiniLM file."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_a_cached_model_cut_short_is_made_again_instead_of_failing_every_run(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    import numpy as np

    from nlp.onnx_model import open_session

    path = tmp_path / f"all-MiniLM-L6-v2-int8-{0:016x}.onnx"
    _tiny_model(path)
    path.write_bytes(path.read_bytes()[:20])  # a disk that filled up while it was copied
    made = []
    session = open_session(path, 1, remake=lambda: made.append(_tiny_model(path)))
    assert len(made) == 1
    assert session.run(None, {"x": np.array([2.0], dtype=np.float32)})[0].tolist() == [2.0]
    path.write_bytes(b"garbage")
    with pytest.raises(Exception):  # without a way to make it again, the error is the runtime's
        open_session(path, 1)
