"""Which Python modules a pickle or joblib file references, read without running any of its code.

A pickled model names every class and function it is made of by module (``sklearn.ensemble._forest``),
and ``joblib.load`` / ``pickle.load`` import those modules: one missing from the environment is the
``ModuleNotFoundError`` that fails ``init()`` in the container. `scan_pickle` reads the names with the
pure-Python unpickler and a ``find_class`` that hands back inert stand-ins, so nothing the file names is
imported and nothing it would call runs (``os.system`` in a ``__reduce__`` included). scikit-learn writes
its version into every estimator's state (``_sklearn_version``); the stand-ins note it, because a model
loaded with another scikit-learn may fail to load or predict differently.

joblib files are not plain pickles: after each ``NumpyArrayWrapper`` the array itself follows as raw
bytes (or, for object arrays, as a nested pickle), and the whole stream may be compressed. The scanner
sizes the array from the wrapper's pickled shape and dtype, without numpy (the terminal may not have it),
and reads past it, so what was pickled after a big array is still found.

It never raises: a file it cannot read to the end gives ``complete=False`` and a ``problem`` in plain
words, with the modules seen until then.
"""

from __future__ import annotations

import bz2
import copyreg
import gzip
import importlib
import io
import lzma
import math
import pickle
import re
import struct
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import IO, Any, ClassVar, NoReturn, cast

from ..models.lfs import is_git_lfs_pointer as is_git_lfs_pointer  # moved down to models; kept here for callers
from ..models.lfs import lfs_pointer_size as lfs_pointer_size
from ..models.lfs import size_in_words as size_in_words

#: Strings and bytes longer than this are read past, not kept: a plainly pickled array's data.
KEEP_PAYLOAD = 1 << 16
#: Reads when stepping over data that is not kept.
CHUNK = 1 << 20
#: The longest line a protocol 0 opcode may take (a text file without newlines is not read whole).
MAX_LINE = 1 << 26
#: Pickles written one after another into the same file (``pickle.dump`` called twice) read at most.
MAX_PICKLES = 100
#: Opcodes run between two looks at the clock.
TICKS = 1024
HEAD_BYTES = 512

LFS_FIX = "run `git lfs pull` in the clone (with Git LFS installed) to fetch the real file"

_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
#: numpy's dtype codes: kind and size in bytes (``f8``, ``V64``), or ``U`` and a length in characters.
_DTYPE_CODE = re.compile(r"[<>|=]?(?:([biufcmMOSV])(\d+)|U(\d+))")
_RECONSTRUCTORS = frozenset(
    {
        ("copyreg", "_reconstructor"),
        ("copy_reg", "_reconstructor"),
        ("copyreg", "__newobj__"),
        ("copyreg", "__newobj_ex__"),
    }
)
_DTYPE_MODULES = frozenset({"numpy", "numpy.core.multiarray", "numpy._core.multiarray"})


@dataclass(frozen=True)
class PickleScan:
    """What a pickle references: full dotted module names, the scikit-learn it was saved with, and whether
    the whole file was read (``problem`` says why not, in plain words)."""

    modules: frozenset[str]
    sklearn_version: str | None
    complete: bool
    problem: str | None


def scan_pickle(path: Path, *, max_seconds: float = 10.0) -> PickleScan:
    """The modules ``path`` references, read without importing them or running anything; never raises."""
    scan = _Scan(max_seconds)
    problem: str | None
    try:
        problem = _scan_file(path, scan)
    except Exception as error:  # anything a damaged or hostile file provokes
        problem = _problem(error, scan)
    problem = problem or scan.note
    return PickleScan(frozenset(scan.modules), scan.sklearn_version, problem is None, problem)


def looks_like_pickle(head: bytes) -> bool:
    """Whether a file starts as a pickle of protocol 2 or later does (the PROTO opcode and its number)."""
    return len(head) >= 2 and head[0] == pickle.PROTO[0] and 2 <= head[1] <= pickle.HIGHEST_PROTOCOL


# -- the scan -----------------------------------------------------------------------------------------


class _TimeUp(Exception):
    pass


class _Unreadable(Exception):
    """A reason, in plain words, why the rest of the file cannot be read."""


class _Scan:
    """What one file's scan has learnt so far, shared by its unpicklers (a nested one per object array,
    one per pickle when several follow each other) and by the stand-ins their ``find_class`` hands out."""

    def __init__(self, max_seconds: float) -> None:
        self.modules: set[str] = set()
        self.sklearn_version: str | None = None
        #: A problem that did not stop the scan (arrays kept in other files by an old joblib).
        self.note: str | None = None
        #: The compression the file was written with, for the problem when its data is damaged.
        self.compression: str | None = None
        self.head = b""
        self.max_seconds = max_seconds
        self.deadline = perf_counter() + max_seconds
        self._classes: dict[tuple[str, str], type[_Stub]] = {}

    def check_time(self) -> None:
        if perf_counter() > self.deadline:
            raise _TimeUp

    def stand_in(self, module: str, name: str) -> type[_Stub]:
        """The stand-in for ``module.name``: the module is noted, nothing is imported."""
        if len(module) <= 200 and _MODULE.fullmatch(module):
            self.modules.add(module)
        key = (module, name)
        found = self._classes.get(key)
        if found is None:
            shown = name if name.isidentifier() else "Stub"
            found = type(shown, (_base(module, name),), {"__slots__": (), "_scan": self})
            self._classes[key] = found
        return found

    def saw_state(self, state: Any) -> None:
        """scikit-learn's ``BaseEstimator.__getstate__`` puts ``_sklearn_version`` into every estimator's state."""
        if self.sklearn_version is not None:
            return
        if isinstance(state, tuple) and len(state) == 2:  # (state, slot state)
            state = state[0]
        if isinstance(state, dict):
            version = state.get("_sklearn_version")
            if isinstance(version, str) and 0 < len(version) <= 40:
                self.sklearn_version = version


def _base(module: str, name: str) -> type[_Stub]:
    if (module, name) in _RECONSTRUCTORS:
        return _Reconstructor
    if name == "dtype" and module in _DTYPE_MODULES:
        return _Dtype
    if name == "NumpyArrayWrapper" and module.endswith("numpy_pickle"):
        return _ArrayWrapper
    if name in ("NDArrayWrapper", "ZNDArrayWrapper") and module.endswith(("numpy_pickle", "numpy_pickle_compat")):
        return _OldArrayWrapper
    return _Stub


# -- the stand-ins ------------------------------------------------------------------------------------


class _Stub:
    """A stand-in for any class or function a pickle names: it takes any arguments and keeps none of them
    (the scan must not hold a model's data), takes items like a list, dict or set would, and reports its
    state to the scan."""

    __slots__ = ()
    _scan: ClassVar[_Scan]

    def __new__(cls, *args: Any, **kwargs: Any) -> _Stub:
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> _Stub:
        return type(self)()

    def __setstate__(self, state: Any) -> None:
        self._scan.saw_state(state)

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def add(self, item: Any) -> None:
        pass


class _Reconstructor(_Stub):
    """``copyreg._reconstructor(cls, base, state)`` / ``copyreg.__newobj__(cls, ...)``: a stand-in of ``cls``,
    so that the state set next (protocols 0 and 1) reaches the stand-in that understands it."""

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        target = args[0] if args else None
        if isinstance(target, type) and issubclass(target, _Stub):
            return object.__new__(target)
        return object.__new__(cls)


class _Dtype(_Stub):
    """``numpy.dtype``: keeps the type code and, from the pickled state, the item size and the flags, all
    that is needed to know how many bytes a joblib array takes. (Class defaults: ``_Reconstructor`` may
    make one without ``__init__``.)"""

    code: str | None = None
    elsize: int | None = None
    flags: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], str) and len(args[0]) <= 32:
            self.code = args[0]

    def __setstate__(self, state: Any) -> None:
        # (version, byte order, subarray, names, fields, elsize, alignment, flags[, metadata])
        if isinstance(state, tuple) and len(state) >= 6:
            if type(state[5]) is int:
                self.elsize = state[5]
            if len(state) >= 8 and type(state[7]) is int:
                self.flags = state[7]

    def itemsize(self) -> int | None:
        """Bytes per item: the state's ``elsize`` for flexible and structured types, else the code's size."""
        if self.elsize is not None and self.elsize > 0:
            return self.elsize
        found = _DTYPE_CODE.fullmatch(self.code or "")
        if found is None:
            return None
        return int(found[2]) if found[2] else 4 * int(found[3])

    def has_objects(self) -> bool:
        """Object arrays (and structured ones with an object field) are written as a nested pickle."""
        return (self.code or "").lstrip("<>|=").startswith("O") or bool((self.flags or 0) & 1)  # NPY_ITEM_HASOBJECT


@dataclass(frozen=True)
class _Array:
    """How a joblib array follows its wrapper: ``size`` raw bytes (after a padding length byte and that
    many padding bytes when ``padded``), or a nested pickle."""

    size: int
    padded: bool
    nested: bool


class _ArrayWrapper(_Stub):
    """joblib's ``NumpyArrayWrapper``: keeps only how to read past the array that follows it."""

    array: _Array | None = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise _Unreadable("a joblib array's description is not readable")
        self.array = _array(state)


class _OldArrayWrapper(_Stub):
    """The array wrappers of joblib before 0.10, which kept each array in a file of its own."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        if self._scan.note is None:
            name = state.get("filename") if isinstance(state, dict) else None
            example = f"such as {name}" if isinstance(name, str) and len(name) < 200 else "such as model.pkl_01.npy"
            self._scan.note = (
                f"it was written by joblib before 0.10, which keeps arrays in separate files ({example}); "
                "those were not scanned: save the model again with a current joblib"
            )


def _array(state: dict[Any, Any]) -> _Array:
    """The byte layout of a joblib array, from its wrapper's state (``shape``, ``dtype``, alignment)."""
    shape, dtype = state.get("shape"), state.get("dtype")
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise _Unreadable("a joblib array's shape is not readable")
    if not isinstance(dtype, _Dtype):
        raise _Unreadable("a joblib array's data type is not readable")
    if dtype.has_objects():
        return _Array(0, padded=False, nested=True)
    itemsize = dtype.itemsize()
    if itemsize is None:
        raise _Unreadable(f"a joblib array has a data type the scanner cannot size ({dtype.code})")
    # joblib >= 1.2 aligns the data: one byte giving the padding length, then that many bytes.
    padded = state.get("numpy_array_alignment_bytes") is not None
    return _Array(math.prod(shape) * itemsize, padded=padded, nested=False)


# -- reading ------------------------------------------------------------------------------------------


class _Source:
    """The (decompressed) stream the opcodes are read from, able to step over a joblib array's bytes:
    by seeking in an uncompressed file of known ``size``, by reading and dropping otherwise."""

    def __init__(self, stream: IO[bytes], scan: _Scan, *, size: int | None) -> None:
        self._stream = stream
        self._scan = scan
        self._size = size

    def read(self, n: int = -1) -> bytes:
        return self._stream.read(n)

    def readline(self) -> bytes:
        line = self._stream.readline(MAX_LINE)
        if len(line) >= MAX_LINE and not line.endswith(b"\n"):
            raise _Unreadable(f"it has a line longer than {MAX_LINE >> 20} MiB, which no pickle opcode takes")
        return line

    def skip(self, count: int) -> None:
        if count <= 0:
            return
        if self._size is not None:
            target = self._stream.tell() + count
            if target > self._size:
                raise EOFError
            self._stream.seek(target)
            return
        while count > 0:
            self._scan.check_time()
            data = self._stream.read(min(count, CHUNK))
            if not data:
                raise EOFError
            count -= len(data)

    def another_pickle(self) -> bool:
        """Whether a protocol 2+ pickle follows the one just read (``pickle.dump`` called again)."""
        peek = getattr(self._stream, "peek", None)
        return peek is not None and bytes(peek(1)[:1]) == pickle.PROTO


class _Unpickler(pickle._Unpickler):
    """The pure-Python unpickler with ``find_class`` and ``persistent_load`` handing out stand-ins, the
    clock checked every `TICKS` opcodes, big strings and bytes stepped over, and (outside a nested pickle)
    joblib's arrays read past after each ``NumpyArrayWrapper``."""

    # Set by pickle._Unpickler.load; declared for the type checker.
    stack: list[Any]
    read: Callable[[int], bytes]
    append: Callable[[Any], None]

    def __init__(self, source: _Source, scan: _Scan, *, nested: bool = False) -> None:
        super().__init__(source, encoding="latin1")
        self._source = source
        self._scan = scan
        self._nested = nested
        self._ticks = 0

    def find_class(self, module: str, name: str) -> Any:
        return self._scan.stand_in(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return self._scan.stand_in("", "persistent")()

    def _load_build(self) -> None:
        _BASE[pickle.BUILD[0]](self)
        top = self.stack[-1]
        if self._nested or not isinstance(top, _ArrayWrapper) or top.array is None:
            return
        array, top.array = top.array, None
        # As joblib's NumpyArrayWrapper.read_array: the array follows in the file itself, outside frames.
        if array.nested:
            _Unpickler(self._source, self._scan, nested=True).load()
            return
        if array.padded:
            padding = self._source.read(1)
            if len(padding) != 1:
                raise EOFError
            self._source.skip(padding[0])
        self._source.skip(array.size)

    def _payload(self, size_format: str) -> bytes | None:
        """A length-prefixed payload, or None when it is big and was read past without being kept."""
        (size,) = struct.unpack(size_format, self.read(struct.calcsize(size_format)))
        if size < 0:
            raise _Unreadable("it is not a pickle, or it is damaged: a negative length")
        if size <= KEEP_PAYLOAD:
            data = self.read(size)
            if len(data) != size:
                raise EOFError
            return data
        # The first read goes through the frame (a big payload usually starts right after one ends) ...
        first = self.read(min(size, CHUNK))
        size -= len(first)
        if not first:
            raise EOFError
        # ... the rest is outside any frame when the unframer has left it, and is skipped in the file.
        if getattr(getattr(self, "_unframer", None), "current_frame", "unknown") is None:
            self._source.skip(size)
            return None
        while size > 0:
            self._scan.check_time()
            data = self.read(min(size, CHUNK))
            if not data:
                raise EOFError
            size -= len(data)
        return None

    def _load_bytes(self, size_format: str) -> None:
        data = self._payload(size_format)
        self.append(b"" if data is None else data)

    def _load_text(self, size_format: str, encoding: str) -> None:
        data = self._payload(size_format)
        self.append("" if data is None else str(data, encoding, "surrogatepass" if encoding == "utf-8" else "strict"))

    def _load_bytearray8(self) -> None:
        data = self._payload("<Q")
        self.append(bytearray() if data is None else bytearray(data))

    def _load_ext(self, size_format: str) -> None:
        # As pickle's own, minus copyreg's process-wide cache (a stand-in must not land there).
        (code,) = struct.unpack(size_format, self.read(struct.calcsize(size_format)))
        key = getattr(copyreg, "_inverted_registry", {}).get(code)
        if not key:
            raise _Unreadable(f"it uses the pickle extension code {code}, which is not registered here")
        self.append(self.find_class(*key))


class _Dispatch(dict[int, Callable[[_Unpickler], None]]):
    def __missing__(self, key: int) -> NoReturn:
        raise _Unreadable(f"it is not a pickle, or it is damaged: byte 0x{key:02x} is not a pickle opcode")


def _timed(load: Callable[[_Unpickler], None]) -> Callable[[_Unpickler], None]:
    def timed(unpickler: _Unpickler) -> None:
        unpickler._ticks += 1
        if unpickler._ticks % TICKS == 0:
            unpickler._scan.check_time()
        load(unpickler)

    return timed


def _opcode(name: bytes) -> int:
    return name[0]


_BASE: dict[int, Callable[[Any], None]] = dict(pickle._Unpickler.dispatch)
_OVERRIDES: dict[int, Callable[[_Unpickler], None]] = {
    _opcode(pickle.BUILD): _Unpickler._load_build,
    _opcode(pickle.BINBYTES): lambda u: u._load_bytes("<I"),
    _opcode(pickle.BINBYTES8): lambda u: u._load_bytes("<Q"),
    _opcode(pickle.BYTEARRAY8): _Unpickler._load_bytearray8,
    _opcode(pickle.BINUNICODE): lambda u: u._load_text("<I", "utf-8"),
    _opcode(pickle.BINUNICODE8): lambda u: u._load_text("<Q", "utf-8"),
    _opcode(pickle.BINSTRING): lambda u: u._load_text("<i", "latin-1"),
    _opcode(pickle.EXT1): lambda u: u._load_ext("<B"),
    _opcode(pickle.EXT2): lambda u: u._load_ext("<H"),
    _opcode(pickle.EXT4): lambda u: u._load_ext("<i"),
}
_Unpickler.dispatch = cast(Any, _Dispatch({key: _timed(load) for key, load in {**_BASE, **_OVERRIDES}.items()}))


class _ZlibReader(io.RawIOBase):
    """A raw zlib stream (joblib's default compression, and its old ``ZF`` files), decompressed as read,
    never more than asked at once (a run of zeros decompresses a thousandfold)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._zlib = zlib.decompressobj()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        while size:
            if self._zlib.unconsumed_tail:
                data = self._zlib.decompress(self._zlib.unconsumed_tail, size)
            elif self._zlib.eof:
                return 0
            else:
                chunk = self._raw.read(1 << 16)
                if not chunk:
                    return 0  # the stream ended early: the unpickler reports a truncated file
                data = self._zlib.decompress(chunk, size)
            if data:
                buffer[: len(data)] = data
                return len(data)
        return 0


def _scan_file(path: Path, scan: _Scan) -> str | None:
    """Reads every pickle in the file; the problem that stops it is raised, an early one returned."""
    with ExitStack() as closing:
        raw = closing.enter_context(open(path, "rb"))
        scan.head = head = raw.read(HEAD_BYTES)
        early = _not_a_pickle(head)
        if early is not None:
            return early
        raw.seek(0)
        stream, size = _decompressed(raw, head, scan)
        if stream is not raw:
            closing.enter_context(stream)
        source = _Source(stream, scan, size=size)
        for _ in range(MAX_PICKLES):
            _Unpickler(source, scan).load()
            if not source.another_pickle():
                break
    return None


def _not_a_pickle(head: bytes) -> str | None:
    """Files recognised by their first bytes as something else than a pickle."""
    if not head:
        return "the file is empty (0 bytes)"
    if is_git_lfs_pointer(head):
        real = lfs_pointer_size(head)
        of = f" for a {size_in_words(real)} file" if real is not None else ""
        return f"it is a Git LFS pointer{of}, not the model: {LFS_FIX}"
    known = {
        b"PK\x03\x04": "a zip archive (as torch.save and Keras write)",
        b"\x93NUMPY": "a NumPy .npy file",
        b"\x89HDF\r\n\x1a\n": "an HDF5 file (such as a Keras .h5 model)",
    }
    for magic, what in known.items():
        if head.startswith(magic):
            return f"it is {what}, not a pickle"
    return None


def _decompressed(raw: IO[bytes], head: bytes, scan: _Scan) -> tuple[IO[bytes], int | None]:
    """The stream of pickle bytes, by the magic numbers joblib's compressors write, and the file size when
    the stream is the file itself (to seek over arrays)."""
    if head.startswith(b"ZF"):  # joblib before 0.9.3: "ZF", the length in hex, then zlib
        scan.compression = "zlib"
        raw.seek(21)
        if raw.read(1) != b" ":
            raw.seek(21)
        return io.BufferedReader(_ZlibReader(raw), CHUNK), None
    if head[:1] == b"\x78" and len(head) > 1 and ((head[0] << 8) | head[1]) % 31 == 0:
        scan.compression = "zlib"
        return io.BufferedReader(_ZlibReader(raw), CHUNK), None
    if head.startswith(b"\x1f\x8b"):
        scan.compression = "gzip"
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")), None
    if head.startswith(b"BZh"):
        scan.compression = "bz2"
        return bz2.BZ2File(raw), None
    if head.startswith(b"\xfd7zXZ\x00"):
        scan.compression = "xz"
        return lzma.LZMAFile(raw), None
    if head.startswith(b"\x5d\x00\x00"):
        scan.compression = "lzma"
        return lzma.LZMAFile(raw, format=lzma.FORMAT_ALONE), None
    if head.startswith(b"\x04\x22\x4d\x18"):
        scan.compression = "lz4"
        return _lz4(raw), None
    raw.seek(0, io.SEEK_END)
    size = raw.tell()
    raw.seek(0)
    return raw, size


def _lz4(raw: IO[bytes]) -> IO[bytes]:
    try:
        frame = importlib.import_module("lz4.frame")
    except ImportError:
        raise _Unreadable(
            "it is compressed with LZ4, and the lz4 package is not installed where the check runs: not scanned"
        ) from None
    stream: IO[bytes] = frame.LZ4FrameFile(raw, mode="rb")
    return stream


# -- problems in plain words --------------------------------------------------------------------------


def _problem(error: BaseException, scan: _Scan) -> str:
    if isinstance(error, _TimeUp):
        return (
            f"the scan stopped after {scan.max_seconds:g} s, before the end of the file: "
            "the modules listed are those read until then"
        )
    if isinstance(error, MemoryError):
        return "it is too large to scan in memory"
    if not scan.modules and _looks_like_text(scan.head):
        return _text(scan.head)
    if isinstance(error, _Unreadable):
        return str(error)
    if isinstance(error, (EOFError, struct.error)) or "truncated" in str(error) or "exhausted" in str(error):
        return "it ends early: the file is truncated (an interrupted download, copy or upload?)"
    if scan.compression is not None and isinstance(error, (OSError, zlib.error, lzma.LZMAError)):
        return f"its {scan.compression} compressed data is damaged ({_short(error)})"
    if isinstance(error, OSError):
        return f"it cannot be read: {error.strerror or _short(error)}"
    if isinstance(error, RecursionError):
        return "it is nested too deeply to scan"
    return f"it is not a pickle, or it is damaged ({type(error).__name__}: {_short(error)})"


def _looks_like_text(head: bytes) -> bool:
    """Text (a README, an HTML error page saved as the model, JSON), unless it starts as protocol 0 does."""
    if not head or b"\x00" in head or head[:1] in (b"(", b"c", b"]", b"}"):
        return False
    text = head.decode("utf-8", errors="replace")
    printable = sum(1 for char in text if char.isprintable() or char in "\t\r\n")
    return printable >= 0.95 * len(text)


def _text(head: bytes) -> str:
    start = head.lstrip()[:1]
    what = {b"<": "HTML or XML", b"{": "JSON", b"[": "JSON"}.get(start, "text")
    return f"it is {what}, not a pickle"


def _short(error: BaseException, limit: int = 100) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
