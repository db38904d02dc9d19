#!/usr/bin/python3
"""xdp-lab's packet helper: builds and decodes frames with scapy, and loads BPF objects and runs them
on frames (BPF_PROG_TEST_RUN) through libbpf's object API with ctypes.

One process per `xdp-lab test` run (src/testing/packet-helper.ts starts it). It reads one JSON request
a line on stdin ({"id": N, "op": OP, ...}) and answers each with one JSON line on stdout
({"id": N, "ok": true, "result": ...} or {"id": N, "ok": false, "error": MESSAGE}). Frames travel as hex.

A frame's text is scapy's notation, but it is never eval'd: it is parsed with `ast` and only layer
calls with literal keyword arguments, joined by '/', are accepted.
"""
import ast
import ctypes
import ctypes.util
import difflib
import functools
import json
import os
import sys

import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy import all as scapy  # noqa: E402
from scapy.packet import Packet, Raw  # noqa: E402
from scapy.utils import hexdump, rdpcap  # noqa: E402


class FrameError(Exception):
    """A frame's text that cannot be built; `field` is the layer or LAYER.FIELD it is about."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


# ---- frames ------------------------------------------------------------------------------------

LAYERS = {n: c for n, c in vars(scapy).items() if isinstance(c, type) and issubclass(c, Packet) and c is not Packet}


def literal(node, where):
    """A keyword's value: a constant, a negative number, or a list/tuple of them. Nothing else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bytes)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float)):
        return -node.operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e, where) for e in node.elts]
    raise FrameError(f"{where}: only literal values are allowed (a string, a number, b'bytes' or a list of them), not {ast.unparse(node)}", where)


@functools.lru_cache(maxsize=4096)
def layers_of(text):
    """[(name, cls, {field: value})] of TEXT, which must be LAYER(k=v, ...)/LAYER(...)/...

    Cached: the cases of a pcap, and many cases of a file, share their expected frame. Callers do not
    change what it returns."""
    if not text.strip():
        raise FrameError("the frame is empty: write layers such as Ether()/IP(dst='10.0.0.1')/UDP(dport=53)")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise FrameError(f"not scapy notation (LAYER(field=value, ...)/LAYER(...)): {e.msg} at column {e.offset}")
    calls = []

    def walk(node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            walk(node.left)
            walk(node.right)
        else:
            calls.append(node)

    walk(tree)
    out = []
    for node in calls:
        if isinstance(node, ast.Name):
            name, kws, args = node.id, [], []
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name, kws, args = node.func.id, node.keywords, node.args
        else:
            raise FrameError(f"{ast.unparse(node)}: each part of a frame is a scapy layer such as IP(ttl=64), joined by '/'")
        cls = LAYERS.get(name)
        if cls is None:
            near = difflib.get_close_matches(name, LAYERS.keys(), n=1)
            raise FrameError(f"{name}: no such scapy layer{f' (did you mean {near[0]}?)' if near else ''}", name)
        if args:
            if name == "Raw" and len(args) == 1 and not kws:
                kws = [ast.keyword(arg="load", value=args[0])]
            else:
                raise FrameError(f"{name}: give fields by name ({name}(field=value)), not by position", name)
        fields = {}
        names = [f.name for f in cls.fields_desc]
        for kw in kws:
            if kw.arg is None:
                raise FrameError(f"{name}: ** is not allowed", name)
            if kw.arg not in names:
                near = difflib.get_close_matches(kw.arg, names, n=1)
                hint = f"did you mean {near[0]}?" if near else f"its fields: {', '.join(names)}"
                raise FrameError(f"{name}.{kw.arg}: {name} has no field {kw.arg} ({hint})", f"{name}.{kw.arg}")
            fields[kw.arg] = literal(kw.value, f"{name}.{kw.arg}")
        out.append((name, cls, fields))
    return out


def instantiate(parts):
    pkt = None
    for name, cls, fields in parts:
        try:
            layer = cls(**fields)
        except Exception as e:
            # Which field: scapy resolves some values (addresses) as the layer is made.
            for k, v in fields.items():
                try:
                    cls(**{k: v})
                except Exception as e2:
                    raise FrameError(f"{name}.{k}: {v!r} is not a valid {k}: {e2}", f"{name}.{k}")
            raise FrameError(f"{name}: {e}", name)
        pkt = layer if pkt is None else pkt / layer
    return pkt


def build(text):
    """The bytes of TEXT; a field whose value does not build (an address that does not parse) is named."""
    parts = layers_of(text)
    pkt = instantiate(parts)
    try:
        data = bytes(pkt)
    except Exception as e:
        # Which field: build each layer with one field at a time.
        for name, cls, fields in parts:
            for k, v in fields.items():
                try:
                    bytes(cls(**{k: v}))
                except Exception as e2:
                    raise FrameError(f"{name}.{k}: {v!r} does not build: {e2}", f"{name}.{k}")
        raise FrameError(f"the frame does not build: {e}")
    if not data:
        raise FrameError("the frame is empty (0 bytes)")
    return data


def op_build(req):
    """Each source ({text}, {hex} or {pcap}) to its frames, or an error naming the layer or field."""
    out = []
    for src in req["frames"]:
        try:
            if "text" in src:
                frames = [build(src["text"])]
            elif "hex" in src:
                frames = [bytes.fromhex(src["hex"])]
            else:
                try:
                    frames = [bytes(p) for p in rdpcap(src["pcap"])]
                except Exception as e:
                    raise FrameError(f"{src['pcap']}: not a pcap file scapy can read: {e}")
                if not frames:
                    raise FrameError(f"{src['pcap']}: holds no frames")
            out.append({"frames": [{"hex": f.hex(), "summary": summary(f)} for f in frames]})
        except FrameError as e:
            out.append({"error": str(e), "field": e.field})
        except Exception as e:  # scapy's own failures, on any input: the frame's, not the run's
            out.append({"error": f"scapy cannot build it: {e}", "field": None})
    return out


def summary(data):
    """scapy's one-line summary of a frame; a frame too short for Ethernet has none."""
    try:
        return scapy.Ether(data).summary()
    except Exception:
        return f"{len(data)} bytes"


def norm(fld, pkt, v):
    try:
        m = fld.i2m(pkt, v)
    except Exception:
        m = v
    return m.hex() if isinstance(m, bytes) else m


def show(fld, pkt, v):
    try:
        return str(fld.i2repr(pkt, v))
    except Exception:
        return repr(v)


def differences(expected, got_hex):
    """Where the frame GOT differs from EXPECTED on the fields EXPECTED sets: [{field, wanted, got}]."""
    parts = layers_of(expected)
    got = scapy.Ether(bytes.fromhex(got_hex))
    seen = {}
    out = []
    for name, cls, fields in parts:
        nth = seen.get(cls, 0)
        seen[cls] = nth + 1
        layer, i = None, 0
        for lay in got.layers():
            if lay is cls:
                if i == nth:
                    layer = got.getlayer(cls, nth + 1)
                    break
                i += 1
        if layer is None:
            out.append({"field": name, "wanted": f"a {name} layer", "got": "none (" + got.summary() + ")"})
            continue
        want = cls(**fields)
        for k in fields:
            fld = want.get_field(k)
            w, g = want.getfieldval(k), layer.getfieldval(k)
            if norm(fld, want, w) != norm(fld, layer, g):
                out.append({"field": f"{name}.{k}", "wanted": show(fld, want, w), "got": show(fld, layer, g)})
    return out


def op_match(req):
    return [differences(c["expected"], c["got"]) for c in req["cases"]]


def op_decode(req):
    out = []
    for h in req["frames"]:
        data = bytes.fromhex(h)
        try:
            p = scapy.Ether(data)
            shown = p.show(dump=True)
        except Exception:
            p = Raw(load=data)
            shown = f"{len(data)} bytes, too short for Ethernet\n"
        out.append({"show": shown, "hexdump": hexdump(data, dump=True), "summary": summary(data)})
    return out


def op_pcap(req):
    """Writes the frames to a pcap file."""
    w = scapy.PcapWriter(req["path"], linktype=1)  # DLT_EN10MB
    for h in req["frames"]:
        w.write(bytes.fromhex(h))
    w.close()
    return None


# ---- BPF through libbpf ------------------------------------------------------------------------

class TestRunOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t), ("data_in", ctypes.c_void_p), ("data_out", ctypes.c_void_p),
        ("data_size_in", ctypes.c_uint32), ("data_size_out", ctypes.c_uint32),
        ("ctx_in", ctypes.c_void_p), ("ctx_out", ctypes.c_void_p),
        ("ctx_size_in", ctypes.c_uint32), ("ctx_size_out", ctypes.c_uint32),
        ("retval", ctypes.c_uint32), ("repeat", ctypes.c_int), ("duration", ctypes.c_uint32),
        ("flags", ctypes.c_uint32), ("cpu", ctypes.c_uint32), ("batch_size", ctypes.c_uint32),
    ]


class BtfType(ctypes.Structure):
    _fields_ = [("name_off", ctypes.c_uint32), ("info", ctypes.c_uint32), ("size_or_type", ctypes.c_uint32)]


BTF_KIND = {1: "int", 2: "ptr", 3: "array", 4: "struct", 5: "union", 6: "enum", 8: "typedef", 9: "volatile", 10: "const", 11: "restrict", 14: "var", 15: "datasec", 19: "enum64"}
XDP, SCHED_CLS = 6, 3

_lib = None


def lib():
    global _lib
    if _lib is None:
        L = ctypes.CDLL(ctypes.util.find_library("bpf") or "libbpf.so.1", use_errno=True)
        vp, cp, u32 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32
        sig = {
            "bpf_object__open_file": (vp, [cp, vp]), "bpf_object__load": (ctypes.c_int, [vp]), "bpf_object__close": (None, [vp]),
            "bpf_object__next_program": (vp, [vp, vp]), "bpf_object__next_map": (vp, [vp, vp]), "bpf_object__btf": (vp, [vp]),
            "bpf_program__name": (cp, [vp]), "bpf_program__section_name": (cp, [vp]), "bpf_program__type": (ctypes.c_int, [vp]),
            "bpf_program__set_type": (ctypes.c_int, [vp, ctypes.c_int]), "bpf_program__set_autoload": (ctypes.c_int, [vp, ctypes.c_bool]),
            "bpf_program__fd": (ctypes.c_int, [vp]),
            "bpf_map__name": (cp, [vp]), "bpf_map__fd": (ctypes.c_int, [vp]), "bpf_map__type": (ctypes.c_int, [vp]),
            "bpf_map__key_size": (u32, [vp]), "bpf_map__value_size": (u32, [vp]), "bpf_map__max_entries": (u32, [vp]),
            "bpf_map__btf_key_type_id": (u32, [vp]), "bpf_map__btf_value_type_id": (u32, [vp]), "bpf_map__is_internal": (ctypes.c_bool, [vp]),
            "bpf_map__set_pin_path": (ctypes.c_int, [vp, cp]),
            "bpf_map__initial_value": (vp, [vp, ctypes.POINTER(ctypes.c_size_t)]), "bpf_map__set_initial_value": (ctypes.c_int, [vp, vp, ctypes.c_size_t]),
            "btf__type_by_id": (ctypes.POINTER(BtfType), [vp, u32]), "btf__name_by_offset": (cp, [vp, u32]),
            "btf__find_by_name_kind": (ctypes.c_int, [vp, cp, u32]), "btf__resolve_size": (ctypes.c_long, [vp, u32]),
            "bpf_prog_test_run_opts": (ctypes.c_int, [ctypes.c_int, ctypes.POINTER(TestRunOpts)]),
            "bpf_map_lookup_elem": (ctypes.c_int, [ctypes.c_int, vp, vp]), "bpf_map_update_elem": (ctypes.c_int, [ctypes.c_int, vp, vp, ctypes.c_uint64]),
            "bpf_map_delete_elem": (ctypes.c_int, [ctypes.c_int, vp]),
            "bpf_obj_get_info_by_fd": (ctypes.c_int, [ctypes.c_int, vp, ctypes.POINTER(u32)]), "libbpf_num_possible_cpus": (ctypes.c_int, []),
        }
        for name, (res, args) in sig.items():
            f = getattr(L, name)
            f.restype, f.argtypes = res, args
        _lib = L
    return _lib


def errno_text(rc):
    e = -rc if rc < 0 else ctypes.get_errno()
    return f"{os.strerror(e)} (errno {e})"


def btf_members(btf, tid, prefix, base, out, depth=0):
    """Flattens type TID into {dotted field: {offset, size}}; TID itself under PREFIX when it is a scalar."""
    L = lib()
    t = L.btf__type_by_id(btf, tid).contents
    kind = BTF_KIND.get((t.info >> 24) & 0x1F, "?")
    if kind in ("typedef", "volatile", "const", "restrict"):
        return btf_members(btf, t.size_or_type, prefix, base, out, depth)
    if kind in ("struct", "union") and depth < 8:
        vlen = t.info & 0xFFFF
        members = ctypes.cast(ctypes.addressof(t) + ctypes.sizeof(BtfType), ctypes.POINTER(ctypes.c_uint32 * 3))
        for i in range(vlen):
            name_off, mtype, moff = members[i]
            name = L.btf__name_by_offset(btf, name_off).decode()
            bits = moff & 0xFFFFFF if (t.info >> 31) else moff
            if bits % 8:
                continue  # bitfields: not addressable by byte
            btf_members(btf, mtype, f"{prefix}.{name}" if prefix and name else (name or prefix), base + bits // 8, out, depth + 1)
        return
    size = L.btf__resolve_size(btf, tid)
    if size > 0 and prefix is not None:
        out[prefix] = {"offset": base, "size": size, "kind": kind}


def layout(btf, tid):
    if not btf or not tid:
        return None
    out = {}
    btf_members(btf, tid, "", 0, out)
    return out


class Loaded:
    def __init__(self, obj, prog, maps):
        self.obj, self.prog, self.maps = obj, prog, maps


LOADED = {}
NEXT_HANDLE = 0
PERCPU = {5, 6, 10}  # PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH


def set_tunables(L, obj, tunables):
    """const volatile globals: their bytes in .rodata's initial value, found through its DATASEC."""
    if not tunables:
        return
    btf = L.bpf_object__btf(obj)
    rodata = None
    m = L.bpf_object__next_map(obj, None)
    while m:
        if L.bpf_map__is_internal(m) and L.bpf_map__name(m).decode().endswith(".rodata"):
            rodata = m
        m = L.bpf_object__next_map(obj, m)
    sec = L.btf__find_by_name_kind(btf, b".rodata", 15) if btf else -1
    if rodata is None or sec < 0:
        raise RuntimeError(f"tunables {', '.join(tunables)}: the object has no const volatile globals (.rodata)")
    size = ctypes.c_size_t()
    buf = bytearray(ctypes.string_at(L.bpf_map__initial_value(rodata, ctypes.byref(size)), size.value))
    t = L.btf__type_by_id(btf, sec).contents
    infos = ctypes.cast(ctypes.addressof(t) + ctypes.sizeof(BtfType), ctypes.POINTER(ctypes.c_uint32 * 3))
    found = {}
    for i in range(t.info & 0xFFFF):
        vtype, off, sz = infos[i]
        found[L.btf__name_by_offset(btf, L.btf__type_by_id(btf, vtype).contents.name_off).decode()] = (off, sz)
    for name, value in tunables.items():
        if name not in found:
            raise RuntimeError(f"tunables.{name}: the object has no const volatile global {name} (it has {', '.join(sorted(found)) or 'none'})")
        off, sz = found[name]
        buf[off:off + sz] = int(value).to_bytes(sz, "little")
    cbuf = (ctypes.c_char * len(buf)).from_buffer(buf)
    rc = L.bpf_map__set_initial_value(rodata, cbuf, len(buf))
    if rc:
        raise RuntimeError(f"Failed to set the tunables: {errno_text(rc)}")


def op_load(req):
    """Opens and loads one object, only the program the test names; its maps and their BTF layouts."""
    L = lib()
    obj = L.bpf_object__open_file(req["object"].encode(), None)
    if not obj or obj < 4096:
        raise RuntimeError(f"Failed to open {req['object']}: {errno_text(-(obj or 0))}")
    want, tc = req.get("program"), req["hook"] != "xdp"
    progs, chosen = [], None
    p = L.bpf_object__next_program(obj, None)
    while p:
        name, sec = L.bpf_program__name(p).decode(), L.bpf_program__section_name(p).decode()
        ptype = L.bpf_program__type(p)
        progs.append(f"{name} ({sec})")
        if chosen is None and (name == want or sec == want if want else (ptype == SCHED_CLS if tc else ptype == XDP)):
            chosen = p
        p = L.bpf_object__next_program(obj, p)
    if chosen is None:
        L.bpf_object__close(obj)
        what = f"no program {want}" if want else f"no {'sched_cls (tc)' if tc else 'XDP'} program"
        raise RuntimeError(f"{req['object']} has {what} (it has {', '.join(progs) or 'none'}): name one with program:")
    p = L.bpf_object__next_program(obj, None)
    while p:
        L.bpf_program__set_autoload(p, p == chosen)
        p = L.bpf_object__next_program(obj, p)
    L.bpf_program__set_type(chosen, SCHED_CLS if tc else XDP)
    # Maps the object pins by name (xdp-tools' do) are made fresh for the test and pinned nowhere:
    # a case must not see, nor leave, another loader's state in /sys/fs/bpf.
    m = L.bpf_object__next_map(obj, None)
    while m:
        L.bpf_map__set_pin_path(m, None)
        m = L.bpf_object__next_map(obj, m)
    try:
        set_tunables(L, obj, req.get("tunables"))
    except Exception:
        L.bpf_object__close(obj)
        raise
    rc = L.bpf_object__load(obj)
    if rc:
        L.bpf_object__close(obj)
        raise RuntimeError(f"Failed to load {req['object']}: {errno_text(rc)}; libbpf said:")
    btf = L.bpf_object__btf(obj)
    maps = {}
    m = L.bpf_object__next_map(obj, None)
    while m:
        name = L.bpf_map__name(m).decode()
        maps[name] = {
            "name": name, "fd": L.bpf_map__fd(m), "type": L.bpf_map__type(m), "key_size": L.bpf_map__key_size(m),
            "value_size": L.bpf_map__value_size(m), "max_entries": L.bpf_map__max_entries(m),
            "percpu": L.bpf_map__type(m) in PERCPU, "internal": bool(L.bpf_map__is_internal(m)),
            "key": layout(btf, L.bpf_map__btf_key_type_id(m)), "value": layout(btf, L.bpf_map__btf_value_type_id(m)),
        }
        m = L.bpf_object__next_map(obj, m)
    info = (ctypes.c_uint8 * 256)()
    ln = ctypes.c_uint32(256)
    fd = L.bpf_program__fd(chosen)
    L.bpf_obj_get_info_by_fd(fd, info, ctypes.byref(ln))
    # struct bpf_prog_info: id at 4, jited_prog_len at 16, xlated_prog_len at 20, verified_insns at 216.
    u32 = lambda off: int.from_bytes(bytes(info[off:off + 4]), "little")  # noqa: E731
    pid = u32(4)
    global NEXT_HANDLE
    NEXT_HANDLE += 1
    handle = NEXT_HANDLE
    LOADED[handle] = Loaded(obj, fd, maps)
    return {"handle": handle, "id": pid, "jited_bytes": u32(16), "xlated_bytes": u32(20), "verified_insns": u32(216) if ln.value >= 220 else None, "name": L.bpf_program__name(chosen).decode(), "section": L.bpf_program__section_name(chosen).decode(),
            "cpus": L.libbpf_num_possible_cpus(), "maps": [{k: v for k, v in mp.items() if k != "fd"} for mp in maps.values()]}


def value_len(mp):
    return ((mp["value_size"] + 7) // 8 * 8) * lib().libbpf_num_possible_cpus() if mp["percpu"] else mp["value_size"]


def lookup(ld, mname, key_hex):
    mp = ld.maps[mname]
    key = bytes.fromhex(key_hex)
    buf = ctypes.create_string_buffer(value_len(mp))
    rc = lib().bpf_map_lookup_elem(mp["fd"], key, buf)
    return buf.raw.hex() if rc == 0 else None


def update(ld, mname, key_hex, value_hex):
    mp = ld.maps[mname]
    val = bytes.fromhex(value_hex)
    if mp["percpu"]:
        stride = (mp["value_size"] + 7) // 8 * 8
        val = (val.ljust(stride, b"\0")) * lib().libbpf_num_possible_cpus()
    rc = lib().bpf_map_update_elem(mp["fd"], bytes.fromhex(key_hex), val, 0)
    if rc:
        raise RuntimeError(f"Failed to set map {mname} key {key_hex}: {errno_text(rc)}")


def test_run(ld, data, ctx, repeat=1):
    L = lib()
    out = ctypes.create_string_buffer(len(data) + 512)
    o = TestRunOpts(sz=ctypes.sizeof(TestRunOpts), data_in=ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p), data_out=ctypes.cast(out, ctypes.c_void_p),
                    data_size_in=len(data), data_size_out=len(out), repeat=repeat)
    if ctx is not None:
        cbuf = ctypes.create_string_buffer(ctx, len(ctx))
        o.ctx_in, o.ctx_size_in = ctypes.cast(cbuf, ctypes.c_void_p), len(ctx)
    rc = L.bpf_prog_test_run_opts(ld.prog, ctypes.byref(o))
    if rc:
        raise RuntimeError(f"BPF_PROG_TEST_RUN failed: {errno_text(rc)}")
    return o.retval, out.raw[:o.data_size_out], o.duration


def op_run(req):
    """Each case: its map entries set, the reads before, one run, the reads after."""
    ld = LOADED[req["handle"]]
    results = []
    for c in req["cases"]:
        try:
            for s in c.get("set", []):
                update(ld, s["map"], s["key"], s["value"])
            before = [lookup(ld, r["map"], r["key"]) for r in c.get("reads", [])]
            ret, out, _ = test_run(ld, bytes.fromhex(c["data"]), bytes.fromhex(c["ctx"]) if c.get("ctx") else None)
            after = [lookup(ld, r["map"], r["key"]) for r in c.get("reads", [])]
            results.append({"retval": ret, "out": out.hex(), "before": before, "after": after})
        except Exception as e:
            results.append({"error": str(e)})
    return results


def op_read(req):
    ld = LOADED[req["handle"]]
    return [lookup(ld, r["map"], r["key"]) for r in req["reads"]]


def op_time(req):
    ld = LOADED[req["handle"]]
    ret, _, ns = test_run(ld, bytes.fromhex(req["data"]), bytes.fromhex(req["ctx"]) if req.get("ctx") else None, req["repeat"])
    return {"retval": ret, "ns": ns}


def op_unload(req):
    ld = LOADED.pop(req["handle"], None)
    if ld:
        lib().bpf_object__close(ld.obj)
    return None


def op_netns(req):
    """Moves the helper into a network namespace (/run/netns/NAME); the ifindex of each named device there."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(req["path"], os.O_RDONLY)
    try:
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise RuntimeError(f"Failed to enter {req['path']}: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
    return devices(req["devices"])


def op_ifindex(req):
    """The ifindex of each named device of the helper's namespace (the lab VM's lan0 and wan0)."""
    return devices(req["devices"])


def devices(names):
    """Each device's ifindex and number of rx queues (BPF_PROG_TEST_RUN refuses a queue it has not)."""
    import socket
    out = {}
    for d in names:
        try:
            queues = len([q for q in os.listdir(f"/sys/class/net/{d}/queues") if q.startswith("rx-")])
        except OSError:
            queues = None  # a namespace entered by setns: /sys is still the one mounted outside it
        out[d] = {"ifindex": socket.if_nametoindex(d), "rx_queues": queues}
    return out


OPS = {"netns": op_netns, "ifindex": op_ifindex, "build": op_build, "match": op_match, "decode": op_decode, "pcap": op_pcap, "load": op_load, "run": op_run, "read": op_read, "time": op_time, "unload": op_unload}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            ans = {"id": req["id"], "ok": True, "result": OPS[req["op"]](req)}
        except Exception as e:
            ans = {"id": req["id"], "ok": False, "error": str(e)}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
