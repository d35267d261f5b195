"""Standard files: BEAT2 npz, Live Link Face CSV, BVH — written, read back, refused when malformed."""
from __future__ import annotations

import numpy as np
import pytest

from backend.errors import UserError
from backend.formats.bvh import write_bvh
from backend.formats.livelink_csv import HEADER, read_livelink_csv, write_livelink_csv
from backend.formats.motion_npz import read_motion_npz, write_motion_npz
from backend.motion.kinematics import forward_kinematics
from backend.motion.rotations import euler_to_matrix
from backend.vocabulary.face import ARKIT_NAMES
from backend.vocabulary.skeleton import JOINT_NAMES, PARENTS


def random_motion(t=40, seed=0):
    rng = np.random.default_rng(seed)
    poses = (rng.normal(size=(t, 55, 3)) * 0.3).astype(np.float32)
    trans = (np.cumsum(rng.normal(size=(t, 3)) * 0.01, axis=0) + [0, 0.93, 0]).astype(np.float32)
    arkit = rng.uniform(0, 1, size=(t, 52)).astype(np.float32)
    return poses, trans, arkit


def test_motion_npz_round_trip_loads_without_pickle(tmp_path):
    poses, trans, arkit = random_motion()
    path = write_motion_npz(tmp_path / "m.npz", poses, trans, arkit)
    raw = np.load(path, allow_pickle=False)
    assert raw["poses"].shape == (40, 165) and raw["poses"].dtype == np.float32
    assert raw["expressions"].shape == (40, 100) and raw["betas"].shape == (300,)
    assert str(raw["gender"]) == "neutral" and int(raw["mocap_frame_rate"]) == 30
    assert str(raw["model"]) == "smplx2020"
    assert list(raw["arkit_names"]) == list(ARKIT_NAMES)
    motion = read_motion_npz(path)
    np.testing.assert_array_equal(motion.poses, poses)
    np.testing.assert_array_equal(motion.trans, trans)
    np.testing.assert_array_equal(motion.arkit, arkit)
    assert not list(tmp_path.glob(".*")), "no temp files left behind"


def test_motion_npz_reorders_arkit_by_names_and_accepts_amass_rate(tmp_path):
    poses, trans, arkit = random_motion(5)
    names = np.array(ARKIT_NAMES[::-1])
    np.savez(tmp_path / "x.npz", poses=poses.reshape(5, -1), trans=trans, arkit=arkit[:, ::-1],
             arkit_names=names, mocap_framerate=np.array(60.0))
    motion = read_motion_npz(tmp_path / "x.npz")
    np.testing.assert_array_equal(motion.arkit, arkit)
    assert motion.fps == 60


@pytest.mark.parametrize("case", ["missing", "not_zip", "no_trans", "bad_shape", "object_array", "nan"])
def test_motion_npz_malformed_gives_one_line_user_error(tmp_path, case):
    poses, trans, _ = random_motion(5)
    path = tmp_path / "bad.npz"
    if case == "not_zip":
        path.write_text("hello")
    elif case == "no_trans":
        np.savez(path, poses=poses.reshape(5, -1))
    elif case == "bad_shape":
        np.savez(path, poses=np.zeros((5, 7)), trans=trans)
    elif case == "object_array":
        np.savez(path, poses=np.array([{"a": 1}], dtype=object), trans=trans)
    elif case == "nan":
        p = poses.reshape(5, -1).copy()
        p[2, 3] = np.nan
        np.savez(path, poses=p, trans=trans)
    with pytest.raises(UserError) as info:
        read_motion_npz(path)
    assert "\n" not in str(info.value)


def test_livelink_csv_round_trip_and_header(tmp_path):
    _, _, arkit = random_motion(75)
    head = np.random.default_rng(1).normal(size=(75, 9)) * 0.1
    path = write_livelink_csv(tmp_path / "f.csv", arkit, head)
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == list(HEADER)
    assert lines[0].startswith("Timecode,BlendShapeCount,EyeBlinkLeft,")
    assert lines[1].startswith("00:00:00:00.000,61,") and lines[31].startswith("00:00:01:00.000,61,")
    curves = read_livelink_csv(path)
    assert curves.fps == 30
    np.testing.assert_allclose(curves.arkit, arkit, atol=1e-6)
    np.testing.assert_allclose(curves.head_eyes, head, atol=1e-6)
    np.testing.assert_allclose(curves.times, np.arange(75) / 30)


def test_livelink_csv_at_60fps_resamples_to_30(tmp_path):
    t = np.arange(120) / 60.0
    arkit = np.zeros((120, 52))
    arkit[:, 17] = 0.5 + 0.5 * np.sin(2 * np.pi * t)
    rows = [",".join(HEADER)]
    for i in range(120):
        s, ff = divmod(i, 60)
        rows.append(f"10:00:{s:02d}:{ff:02d}.250,61," + ",".join(f"{v:.6f}" for v in arkit[i]) + ",0" * 9)
    (tmp_path / "iphone.csv").write_text("\n".join(rows) + "\n")
    curves = read_livelink_csv(tmp_path / "iphone.csv")
    assert curves.fps == 60
    r = curves.resampled(30)
    assert r.arkit.shape == (60, 52)
    np.testing.assert_allclose(r.arkit[:, 17], 0.5 + 0.5 * np.sin(2 * np.pi * np.arange(60) / 30), atol=2e-3)


@pytest.mark.parametrize("content", ["", "a,b,c\n1,2,3\n", "Timecode,BlendShapeCount,EyeBlinkLeft\nxx,1,0.5\n",
                                     "Timecode,BlendShapeCount,EyeBlinkLeft\n"])
def test_livelink_csv_malformed(tmp_path, content):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(UserError):
        read_livelink_csv(path)


def parse_bvh(text):
    """Minimal reader for our own BVH: names, offsets, parents, channel order, frames."""
    lines = iter(text.splitlines())
    names, offsets, parents, stack = [], [], [], []
    for line in lines:
        tok = line.split()
        if not tok:
            continue
        if tok[0] in ("ROOT", "JOINT"):
            parents.append(stack[-1] if stack else -1)
            names.append(tok[1])
        elif tok[0] == "End":
            stack.append(None)
        elif tok[0] == "OFFSET" and (not stack or stack[-1] is not None) and len(offsets) < len(names):
            offsets.append([float(x) for x in tok[1:]])
        elif tok[0] == "{":
            if stack and stack[-1] is None:
                continue
            stack.append(len(names) - 1)
        elif tok[0] == "}":
            stack.pop()
        elif tok[0] == "MOTION":
            break
    n_frames = int(next(lines).split()[1])
    frame_time = float(next(lines).split()[2])
    data = np.array([[float(x) for x in next(lines).split()] for _ in range(n_frames)])
    return names, np.array(offsets), parents, frame_time, data


def test_bvh_reproduces_forward_kinematics(tmp_path):
    poses, trans, _ = random_motion(12, seed=3)
    path = write_bvh(tmp_path / "m.bvh", poses, trans, fps=30)
    names, offsets, parents, frame_time, data = parse_bvh(path.read_text())
    assert sorted(names) == sorted(JOINT_NAMES) and len(names) == 55
    assert abs(frame_time - 1 / 30) < 1e-7 and data.shape == (12, 3 + 55 * 3)
    # rebuild global positions from the BVH alone and compare with our FK (metres vs cm)
    idx = [JOINT_NAMES.index(n) for n in names]
    assert [PARENTS[i] for i in idx] == [-1 if p < 0 else idx[p] for p in parents]
    rot = euler_to_matrix(np.radians(data[:, 3:].reshape(12, 55, 3)), "ZXY")
    glob_r = [None] * 55
    pos = np.zeros((12, 55, 3))
    for k, p in enumerate(parents):
        if p < 0:
            glob_r[k], pos[:, k] = rot[:, k], data[:, :3]
        else:
            glob_r[k] = glob_r[p] @ rot[:, k]
            pos[:, k] = pos[:, p] + np.einsum("tij,j->ti", glob_r[p], offsets[k])
    _, fk = forward_kinematics(poses.astype(np.float64), trans.astype(np.float64))
    np.testing.assert_allclose(pos / 100.0, fk[:, idx], atol=1e-4)
