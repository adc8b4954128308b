"""The string hashes of Keras's hashing layers, in pure NumPy: FarmHash ``Fingerprint64``, SipHash-2-4
and ``FingerprintCat64``.

Keras's ``Hashing``, ``HashedCrossing`` and the lookup layers' OOV buckets hash with TensorFlow's
``tf.strings.to_hash_bucket_fast`` (FarmHash's ``Fingerprint64``, i.e. ``farmhashna::Hash64``),
``to_hash_bucket_strong`` (SipHash-2-4 keyed by the salt) and ``tf.sparse.cross_hashed`` (fingerprints
combined by ``FingerprintCat64``). These are written here from the published algorithms so that strided
gives the same bins without TensorFlow. Every function works on a whole batch at once: strings of equal
byte length are hashed together as columns of a ``uint64`` array (NumPy's unsigned arithmetic wraps
modulo 2**64, as the C++ does).
"""

import collections

import numpy as np

_U64 = np.uint64
_K0 = _U64(0xC3A5C85C97CB3127)
_K1 = _U64(0xB492B66FBE98F273)
_K2 = _U64(0x9AE16A3B2F90404F)
_KMUL = _U64(0x9DDFEA08EB382D69)
_CAT_MUL = _U64(0xC6A4A7935BD1E995)


def _rot(v, shift):
    """Rotate right by a constant ``shift`` (1..63)."""
    return (v >> _U64(shift)) | (v << _U64(64 - shift))


def _shift_mix(v):
    return v ^ (v >> _U64(47))


def _hash_len16(u, v, mul=_KMUL):
    a = (u ^ v) * mul
    a ^= a >> _U64(47)
    b = (v ^ a) * mul
    b ^= b >> _U64(47)
    return b * mul


class _Bytes:
    """``n`` byte strings of one length ``size``, as an ``(n, size)`` uint8 array with little-endian loads."""

    def __init__(self, rows, size):
        self.rows, self.size = rows, size

    def fetch64(self, offset):
        return np.ascontiguousarray(self.rows[:, offset : offset + 8]).view("<u8").reshape(-1).astype(_U64)

    def fetch32(self, offset):
        return np.ascontiguousarray(self.rows[:, offset : offset + 4]).view("<u4").reshape(-1).astype(_U64)

    def byte(self, offset):
        return self.rows[:, offset].astype(_U64)


def _len0to16(s, n):
    size = _U64(n)
    if n >= 8:
        mul = _K2 + size * _U64(2)
        a = s.fetch64(0) + _K2
        b = s.fetch64(n - 8)
        c = _rot(b, 37) * mul + a
        d = (_rot(a, 25) + b) * mul
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + size * _U64(2)
        a = s.fetch32(0)
        return _hash_len16(size + (a << _U64(3)), s.fetch32(n - 4), mul)
    if n > 0:
        a, b, c = s.byte(0), s.byte(n >> 1), s.byte(n - 1)
        y = (a + (b << _U64(8))) & _U64(0xFFFFFFFF)
        z = (size + (c << _U64(2))) & _U64(0xFFFFFFFF)
        return _shift_mix(y * _K2 ^ z * _K0) * _K2
    return np.full(s.rows.shape[0], _K2, dtype=_U64)


def _len17to32(s, n):
    mul = _K2 + _U64(n) * _U64(2)
    a = s.fetch64(0) * _K1
    b = s.fetch64(8)
    c = s.fetch64(n - 8) * mul
    d = s.fetch64(n - 16) * _K2
    return _hash_len16(_rot(a + b, 43) + _rot(c, 30) + d, a + _rot(b + _K2, 18) + c, mul)


def _len33to64(s, n):
    mul = _K2 + _U64(n) * _U64(2)
    a = s.fetch64(0) * _K2
    b = s.fetch64(8)
    c = s.fetch64(n - 8) * mul
    d = s.fetch64(n - 16) * _K2
    y = _rot(a + b, 43) + _rot(c, 30) + d
    z = _hash_len16(y, a + _rot(b + _K2, 18) + c, mul)
    e = s.fetch64(16) * mul
    f = s.fetch64(24)
    g = (y + s.fetch64(n - 32)) * mul
    h = (z + s.fetch64(n - 24)) * mul
    return _hash_len16(_rot(e + f, 43) + _rot(g, 30) + h, e + _rot(f + a, 18) + g, mul)


def _weak_len32(s, offset, a, b):
    w, x, y, z = (s.fetch64(offset + k) for k in (0, 8, 16, 24))
    a = a + w
    b = _rot(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rot(a, 44)
    return a + z, b + c


def _len_over64(s, n):
    count = s.rows.shape[0]
    seed = _U64(81)
    x = np.full(count, seed, dtype=_U64)
    y = np.full(count, seed * _K1 + _U64(113), dtype=_U64)
    z = _shift_mix(y * _K2 + _U64(113)) * _K2
    v = (np.zeros(count, _U64), np.zeros(count, _U64))
    w = (np.zeros(count, _U64), np.zeros(count, _U64))
    x = x * _K2 + s.fetch64(0)
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    for p in range(0, end, 64):
        x = _rot(x + y + v[0] + s.fetch64(p + 8), 37) * _K1
        y = _rot(y + v[1] + s.fetch64(p + 48), 42) * _K1
        x = x ^ w[1]
        y = y + v[0] + s.fetch64(p + 40)
        z = _rot(z + w[0], 33) * _K1
        v = _weak_len32(s, p, v[1] * _K1, x + w[0])
        w = _weak_len32(s, p + 32, z + w[1], y + s.fetch64(p + 16))
        x, z = z, x
    mul = _K1 + ((z & _U64(0xFF)) << _U64(1))
    p = last64
    w0 = w[0] + _U64((n - 1) & 63)
    v0 = v[0] + w0
    w0 = w0 + v0
    v, w = (v0, v[1]), (w0, w[1])
    x = _rot(x + y + v[0] + s.fetch64(p + 8), 37) * mul
    y = _rot(y + v[1] + s.fetch64(p + 48), 42) * mul
    x = x ^ (w[1] * _U64(9))
    y = y + v[0] * _U64(9) + s.fetch64(p + 40)
    z = _rot(z + w[0], 33) * mul
    v = _weak_len32(s, p, v[1] * mul, x + w[0])
    w = _weak_len32(s, p + 32, z + w[1], y + s.fetch64(p + 16))
    x, z = z, x
    return _hash_len16(_hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z, _hash_len16(v[1], w[1], mul) + x, mul)


def _fingerprint_group(s, n):
    if n <= 16:
        return _len0to16(s, n)
    if n <= 32:
        return _len17to32(s, n)
    if n <= 64:
        return _len33to64(s, n)
    return _len_over64(s, n)


def _sip_round(v0, v1, v2, v3):
    v0 = v0 + v1
    v2 = v2 + v3
    v1 = _rot(v1, 51) ^ v0  # rotate left 13 == rotate right 51
    v3 = _rot(v3, 48) ^ v2  # rotate left 16
    v0 = _rot(v0, 32)
    v2 = v2 + v1
    v0 = v0 + v3
    v1 = _rot(v1, 47) ^ v2  # rotate left 17
    v3 = _rot(v3, 43) ^ v0  # rotate left 21
    v2 = _rot(v2, 32)
    return v0, v1, v2, v3


def _siphash_group(s, n, key):
    count = s.rows.shape[0]
    k0, k1 = _U64(key[0]), _U64(key[1])
    v0 = np.full(count, _U64(0x736F6D6570736575) ^ k0, dtype=_U64)
    v1 = np.full(count, _U64(0x646F72616E646F6D) ^ k1, dtype=_U64)
    v2 = np.full(count, _U64(0x6C7967656E657261) ^ k0, dtype=_U64)
    v3 = np.full(count, _U64(0x7465646279746573) ^ k1, dtype=_U64)
    full = n // 8 * 8
    # the final packet: the remaining bytes, zero padded, with the length's low byte on top
    tail = np.zeros((count, 8), dtype=np.uint8)
    tail[:, : n - full] = s.rows[:, full:]
    tail[:, 7] = n & 0xFF
    packets = [s.fetch64(p) for p in range(0, full, 8)] + [_Bytes(tail, 8).fetch64(0)]
    for m in packets:
        v3 = v3 ^ m
        v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3))
        v0 = v0 ^ m
    v2 = v2 ^ _U64(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def _as_bytes(value, encoding="utf-8"):
    if isinstance(value, bytes):
        return value
    if isinstance(value, np.bytes_):
        return bytes(value)
    return str(value).encode(encoding)


def _hash_strings(values, group_hash):
    """Applies ``group_hash(rows, length)`` to each length group of ``values``; a flat uint64 array back."""
    data = [_as_bytes(v) for v in values]
    out = np.empty(len(data), dtype=_U64)
    by_length = collections.defaultdict(list)
    for i, b in enumerate(data):
        by_length[len(b)].append(i)
    with np.errstate(over="ignore"):
        for n, idx in by_length.items():
            rows = np.frombuffer(b"".join(data[i] for i in idx), dtype=np.uint8).reshape(len(idx), n)
            out[np.asarray(idx)] = group_hash(_Bytes(rows, n), n)
    return out


def fingerprint64(values):
    """FarmHash ``Fingerprint64`` of each string (``str`` as UTF-8, or ``bytes``) in the iterable ``values``.

    Returns a flat ``uint64`` array, equal to TensorFlow's ``tf.fingerprint(..., "farmhash64")`` read as
    one little-endian number, and the hash behind ``tf.strings.to_hash_bucket_fast``.
    """
    return _hash_strings(list(values), _fingerprint_group)


def siphash64(values, key):
    """SipHash-2-4 of each string with the 128-bit ``key`` given as two unsigned integers
    (``tf.strings.to_hash_bucket_strong``'s hash). Returns a flat ``uint64`` array."""
    key = [int(k) & 0xFFFFFFFFFFFFFFFF for k in key]
    return _hash_strings(list(values), lambda s, n: _siphash_group(s, n, key))


def fingerprint_cat64(fp1, fp2):
    """Combines two arrays of 64-bit fingerprints (TensorFlow's ``FingerprintCat64``)."""
    with np.errstate(over="ignore"):
        fp1 = np.asarray(fp1).astype(_U64)
        fp2 = np.asarray(fp2).astype(_U64)
        result = fp1 ^ _CAT_MUL
        result ^= _shift_mix(fp2 * _CAT_MUL) * _CAT_MUL
        result *= _CAT_MUL
        result = _shift_mix(result) * _CAT_MUL
        return _shift_mix(result)


def hash_unique(values, hash_fn):
    """``hash_fn`` applied to the distinct entries of an array only; the result in ``values``'s shape."""
    values = np.asarray(values)
    uniques, inverse = np.unique(values.reshape(-1), return_inverse=True)
    return hash_fn(uniques.tolist())[inverse.reshape(-1)].reshape(values.shape)
