"""Frame outputs: JSON lines, Live Link Face UDP packets, OSC (VMC protocol) blendshape messages.

JSON line per frame (stdout, flushed):
  {"frame": k, "t": seconds, "weights": [52 ARKit weights, Apple order = backend/formats/arkit.ARKIT_NAMES],
   "head": [pitch, yaw, roll] radians, "eyes": [[pitch, yaw] left, [pitch, yaw] right] radians,
   "latency_ms": audio-in → frame-out on this process's clock}

Live Link Face packet (what Unreal's Apple ARKit Face Support "Live Link Face" UDP source reads; the iPhone
app sends the same; default port 11111). All multi-byte values big-endian (network order):
  uint8   packet version = 6
  int32   N, then N bytes: device id (UTF-8, no terminator); Unreal keys the source by it
  int32   M, then M bytes: subject name (UTF-8, no terminator), the Live Link subject shown in Unreal
  int32   frame number, float32 sub-frame   (FFrameTime)
  int32   frame-rate numerator, int32 denominator (FFrameRate, here 30/1)
  uint8   value count = 61
  61 × float32 in Unreal's EARFaceBlendShape order: the 52 ARKit weights (EyeBlinkLeft, EyeLookDownLeft, …,
          JawForward, JawLeft, JawRight, JawOpen, MouthClose, MouthFunnel, MouthPucker, MouthLeft, MouthRight,
          …, TongueOut; see LIVELINK_ORDER), then HeadYaw, HeadPitch, HeadRoll, LeftEyeYaw, LeftEyePitch,
          LeftEyeRoll, RightEyeYaw, RightEyePitch, RightEyeRoll in radians.
  The enum differs from Apple's order in four places (jaw/mouth Left before Right), so values are placed
  by name. decode_livelink() reads the same layout back (tests use it on a loopback socket).

OSC (VMC protocol, VSeeFace/VMagicMirror "perfect sync" receivers, default port 39539): per frame one
bundle of /VMC/Ext/Blend/Val (string ARKit name, float weight) × 52, /VMC/Ext/Bone/Pos "Head" (0,0,0 and a
quaternion x y z w from the head angles), /VMC/Ext/Blend/Apply. Encoded here (OSC 1.0: padded strings,
big-endian int32/float32, '#bundle' with an immediate time tag).
"""
from __future__ import annotations

import json
import socket
import struct
import sys
import uuid

import numpy as np

from ..vocabulary.face import ARKIT_INDEX, ARKIT_NAMES
from .face import LiveFrame

LIVELINK_VERSION = 6
LIVELINK_ORDER: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
    "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight", "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose",
    "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut")
assert sorted(LIVELINK_ORDER) == sorted(ARKIT_NAMES)
_TO_LIVELINK = np.array([ARKIT_INDEX[n] for n in LIVELINK_ORDER])
_FROM_LIVELINK = np.argsort(_TO_LIVELINK)
LIVELINK_VALUES = 61


def frame_json(frame: LiveFrame, latency_ms: float | None = None) -> str:
    d = {"frame": frame.index, "t": round(frame.t, 4), "weights": [round(float(v), 4) for v in frame.weights],
         "head": [round(float(v), 5) for v in frame.head], "eyes": np.round(frame.eyes, 5).tolist()}
    if latency_ms is not None:
        d["latency_ms"] = round(latency_ms, 1)
    return json.dumps(d, separators=(",", ":"))


def _pose9(frame: LiveFrame) -> list[float]:
    pitch, yaw, roll = (float(v) for v in frame.head)
    (lp, ly), (rp, ry) = frame.eyes.tolist()
    # Live Link Face: HeadPitch + = looking down like ours; eye pitch + = down there, up here
    return [yaw, pitch, roll, ly, -lp, 0.0, ry, -rp, 0.0]


def encode_livelink(frame: LiveFrame, subject: str, device_id: str, fps: int = 30) -> bytes:
    dev, sub = device_id.encode(), subject.encode()
    values = np.concatenate([np.asarray(frame.weights, np.float64)[_TO_LIVELINK], _pose9(frame)])
    return (struct.pack(">B", LIVELINK_VERSION) + struct.pack(">i", len(dev)) + dev
            + struct.pack(">i", len(sub)) + sub
            + struct.pack(">ifiiB", frame.index, 0.0, fps, 1, LIVELINK_VALUES)
            + struct.pack(f">{LIVELINK_VALUES}f", *values))


def decode_livelink(packet: bytes) -> dict:
    """A Live Link Face packet → {'version', 'device_id', 'subject', 'frame', 'subframe', 'fps',
    'weights' (52,) Apple order, 'pose' (9,)}; ValueError on a malformed packet."""
    try:
        version = packet[0]
        o = 1
        (n,) = struct.unpack_from(">i", packet, o); o += 4
        device = packet[o:o + n].decode(); o += n
        (m,) = struct.unpack_from(">i", packet, o); o += 4
        subject = packet[o:o + m].decode(); o += m
        frame, sub, num, den, count = struct.unpack_from(">ifiiB", packet, o); o += 17
        values = np.array(struct.unpack_from(f">{count}f", packet, o), np.float32); o += 4 * count
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"not a Live Link Face packet: {exc}") from exc
    if o != len(packet) or count != LIVELINK_VALUES or n < 0 or m < 0:
        raise ValueError("not a Live Link Face packet: wrong length or value count")
    return {"version": version, "device_id": device, "subject": subject, "frame": frame, "subframe": sub,
            "fps": num / max(den, 1), "weights": values[:52][_FROM_LIVELINK], "pose": values[52:]}


# ---------------------------------------------------------------------------------------------- OSC

def _osc_string(s: str) -> bytes:
    b = s.encode() + b"\0"
    return b + b"\0" * (-len(b) % 4)


def osc_message(address: str, *args) -> bytes:
    tags, data = ",", b""
    for a in args:
        if isinstance(a, str):
            tags += "s"; data += _osc_string(a)
        elif isinstance(a, int):
            tags += "i"; data += struct.pack(">i", a)
        else:
            tags += "f"; data += struct.pack(">f", float(a))
    return _osc_string(address) + _osc_string(tags) + data


def osc_bundle(messages: list[bytes]) -> bytes:
    return _osc_string("#bundle") + struct.pack(">Q", 1) + b"".join(struct.pack(">i", len(m)) + m
                                                                     for m in messages)


def parse_osc(packet: bytes) -> list[tuple[str, list]]:
    """OSC packet (message or bundle) → [(address, args)]; enough of OSC 1.0 for s/i/f arguments."""
    def string(o):
        end = packet.index(b"\0", o)
        return packet[o:end].decode(), o + ((end - o) // 4 + 1) * 4

    def message(o, stop):
        addr, o = string(o)
        tags, o = string(o)
        args = []
        for tg in tags[1:]:
            if tg == "s":
                s, o = string(o); args.append(s)
            elif tg == "i":
                args.append(struct.unpack_from(">i", packet, o)[0]); o += 4
            elif tg == "f":
                args.append(struct.unpack_from(">f", packet, o)[0]); o += 4
            else:
                raise ValueError(f"OSC type {tg!r} not supported")
        return addr, args

    if packet.startswith(b"#bundle\0"):
        o, out = 16, []
        while o < len(packet):
            (size,) = struct.unpack_from(">i", packet, o)
            out.append(message(o + 4, o + 4 + size))
            o += 4 + size
        return out
    return [message(0, len(packet))]


def head_quaternion(head: np.ndarray) -> tuple[float, float, float, float]:
    """(pitch, yaw, roll) → (x, y, z, w) in Unity's left-handed Y-up frame used by VMC (yaw about Y, pitch
    about X, roll about Z)."""
    p, y, r = (0.5 * float(v) for v in head)
    cx, sx, cy, sy, cz, sz = np.cos(p), np.sin(p), np.cos(y), np.sin(y), np.cos(r), np.sin(r)
    # q = qy * qx * qz
    w = cy * cx * cz + sy * sx * sz
    x = cy * sx * cz + sy * cx * sz
    yq = sy * cx * cz - cy * sx * sz
    z = cy * cx * sz - sy * sx * cz
    return float(x), float(yq), float(z), float(w)


def encode_vmc(frame: LiveFrame) -> bytes:
    msgs = [osc_message("/VMC/Ext/Blend/Val", name, float(frame.weights[i])) for i, name in enumerate(ARKIT_NAMES)]
    msgs.append(osc_message("/VMC/Ext/Bone/Pos", "Head", 0.0, 0.0, 0.0, *head_quaternion(frame.head)))
    msgs.append(osc_message("/VMC/Ext/Blend/Apply"))
    return osc_bundle(msgs)


def parse_hostport(spec: str, option: str) -> tuple[str, int]:
    from ..errors import UserError

    host, _, port = spec.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"{option} {spec!r}: expected HOST:PORT, e.g. 127.0.0.1:11111")
    return host, int(port)


class UdpSender:
    """One UDP socket; a send that fails (no route, host down) is reported once and retried next frame."""

    def __init__(self, host: str, port: int, label: str) -> None:
        from ..errors import UserError

        try:  # resolve once: a name looked up per frame would stall the stream when DNS is slow
            family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        except socket.gaierror as exc:
            raise UserError(f"{label} host {host!r} not found ({exc.strerror}); give an IP address or a "
                            f"name this machine can resolve") from None
        self.addr, self.label = addr, label
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self._failing = False

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, self.addr)
            if self._failing:
                print(f"live: {self.label} sending again", file=sys.stderr, flush=True)
            self._failing = False
        except OSError as exc:
            if not self._failing:
                print(f"live: {self.label} to {self.addr[0]}:{self.addr[1]} failed ({exc}); retrying",
                      file=sys.stderr, flush=True)
            self._failing = True

    def close(self) -> None:
        self.sock.close()


def new_device_id() -> str:
    return str(uuid.uuid4())
