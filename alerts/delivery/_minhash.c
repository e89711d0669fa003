/* An item's MinHash in one C pass: minhash.py's numpy twin (datasketch's affine32 values).

   For each shingle: SHA-1 of its UTF-8 (OpenSSL's libcrypto), the digest's first 4 bytes little-endian (datasketch's
   sha1_hash32), MurmurHash3's fmix32, then per permutation (a * h + b) mod 2**32; the
   signature keeps each permutation's minimum, as 64-bit little-endian values. The per-shingle
   hashlib object (three Python calls) cost more than the hashing itself.
   ``tests/delivery/test_signature.py`` holds this to the numpy twin and to datasketch. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* SHA1_Init/Update/Final are OpenSSL 3's "deprecated" low-level calls: the digest itself. Its
   one-shot SHA1() became EVP_Q_digest, which fetches the algorithm from the provider (a lookup
   under a lock) and makes a context on every call: 4,600 instructions a shingle, against
   about 1,000 for the digest. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#define MAX_PERM 1024

/* The first 4 bytes of SHA-1(data), read little-endian: OpenSSL's SHA-1 (the library
   CPython's hashlib wraps), without hashlib's object and three Python calls per shingle. */
static uint32_t sha1_hash32(const unsigned char *data, Py_ssize_t len) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA_CTX ctx;
    SHA1_Init(&ctx);
    SHA1_Update(&ctx, data, (size_t)len);
    SHA1_Final(digest, &ctx);
    return (uint32_t)digest[0] | (uint32_t)digest[1] << 8 | (uint32_t)digest[2] << 16 |
           (uint32_t)digest[3] << 24;
}

static uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

/* low[i] = min(low[i], a[i] * h + b[i]) (mod 2**32); 64 permutations in a fixed-count loop,
   which the compiler vectorises. */
static void affine_min(uint32_t *low, const uint32_t *a, const uint32_t *b, uint32_t h,
                       Py_ssize_t n) {
    Py_ssize_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 64; j++) {
            uint32_t v = a[i + j] * h + b[i + j];
            low[i + j] = v < low[i + j] ? v : low[i + j];
        }
    for (; i < n; i++) {
        uint32_t v = a[i] * h + b[i];
        low[i] = v < low[i] ? v : low[i];
    }
}

static int read_u32s(PyObject *raw, const char *what, uint32_t *out, Py_ssize_t *n) {
    if (!PyBytes_Check(raw) || PyBytes_GET_SIZE(raw) % 4 != 0 ||
        PyBytes_GET_SIZE(raw) / 4 > MAX_PERM || PyBytes_GET_SIZE(raw) == 0) {
        PyErr_Format(PyExc_ValueError, "%s: 4 to %d bytes of little-endian uint32", what,
                     4 * MAX_PERM);
        return -1;
    }
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(raw);
    *n = PyBytes_GET_SIZE(raw) / 4;
    for (Py_ssize_t i = 0; i < *n; i++)
        out[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                 (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    return 0;
}

/* minhash(shingles, a, b) -> bytes: see the top of this file. ``shingles``: an iterable of
   str (at least one); ``a``, ``b``: the permutations as little-endian uint32 bytes. */
static PyObject *minhash(PyObject *self, PyObject *args) {
    PyObject *shingles, *raw_a, *raw_b;
    if (!PyArg_ParseTuple(args, "OSS:minhash", &shingles, &raw_a, &raw_b)) return NULL;
    uint32_t a[MAX_PERM], b[MAX_PERM], low[MAX_PERM];
    Py_ssize_t n, nb;
    if (read_u32s(raw_a, "a", a, &n) < 0 || read_u32s(raw_b, "b", b, &nb) < 0) return NULL;
    if (n != nb) return PyErr_Format(PyExc_ValueError, "a and b differ in length");
    for (Py_ssize_t i = 0; i < n; i++) low[i] = 0xFFFFFFFFu;
    PyObject *it = PyObject_GetIter(shingles);
    if (it == NULL) return NULL;
    PyObject *s;
    Py_ssize_t seen = 0;
    while ((s = PyIter_Next(it)) != NULL) {
        Py_ssize_t len;
        const char *utf8 = PyUnicode_Check(s) ? PyUnicode_AsUTF8AndSize(s, &len) : NULL;
        if (utf8 == NULL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "a shingle is a str");
            Py_DECREF(s);
            Py_DECREF(it);
            return NULL;
        }
        uint32_t h = fmix32(sha1_hash32((const unsigned char *)utf8, len));
        Py_DECREF(s);
        affine_min(low, a, b, h, n);
        seen++;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    if (seen == 0) return PyErr_Format(PyExc_ValueError, "no shingle");
    PyObject *out = PyBytes_FromStringAndSize(NULL, 8 * n);
    if (out == NULL) return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    memset(o, 0, (size_t)(8 * n));
    for (Py_ssize_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) o[8 * i + k] = (unsigned char)(low[i] >> (8 * k));
    return out;
}

static PyMethodDef methods[] = {
    {"minhash", minhash, METH_VARARGS,
     "minhash(shingles, a, b) -> bytes: the MinHash of str shingles (datasketch's affine32)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_minhash",
                                    "An item's MinHash in one C pass (minhash.py's twin).", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__minhash(void) { return PyModule_Create(&module); }
