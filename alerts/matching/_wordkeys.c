/* Word keys at C speed: split normalised fields into words and look each word's key up.
 *
 * The pure-Python twin is alerts/matching/keytable.py (PyWordTable); both keep the same
 * contract and tests run both. A WordTable maps a word (its code points) to its key, a
 * Python str computed by alerts.matching.variants. Slots are one open-addressing array
 * and the words' code points one arena, so a lookup touches one or two cache lines, and
 * all of an item's lookups are prefetched before any is made: the table holds hundreds of
 * thousands of words and a Python dict of them spends most of its time waiting on memory.
 *
 * Each slot also remembers whether its key is in the current index's table of anchor
 * keys (with the number of the table it checked), so an item's words are not looked up
 * in that table again and again.
 *
 * Memory is bounded twice: by a number of words and by bytes (the slots, the arena and the
 * key strings, counted as they are allocated: nbytes()). A word that would take the table
 * past either limit makes it start over, its memory given back. A slot is 24 bytes and the
 * arena holds 16-bit code points: a word with a character beyond the BMP is not kept.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject *key;    /* NULL: the slot is empty */
    uint32_t hash;    /* the word hash's low half (the table is never 2**32 slots) */
    uint32_t off;     /* first code point in the arena */
    uint32_t gen;     /* 0: not checked yet */
    uint16_t seen;    /* the last scan that listed the key as an anchor */
    uint8_t len;      /* max_word < 256 */
    uint8_t anchored; /* whether the key is in the anchors table numbered gen */
} Slot;

typedef struct {
    uint64_t hash;
    Slot *slot;
    Py_ssize_t start;
    uint32_t len;
    uint32_t field;
    int wide; /* a character beyond the BMP: never kept */
} Tok;

#define FIRST_CAP 1024 /* slots of an empty table */
#define MAX_WORD 255

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t cap; /* a power of two */
    size_t count;
    uint16_t *arena;
    size_t arena_len, arena_cap;
    size_t limit;
    size_t max_bytes, key_bytes; /* key_bytes: the key strings, as add() counted them */
    Py_ssize_t max_word;
    PyObject *anchors; /* the dict the slots' anchored flags refer to */
    uint32_t gen;
    uint16_t scans;
    int busy; /* a call is running: a second one (another thread, a finaliser) is refused */
    Tok *toks;
    size_t toks_cap;
} WordTable;

static unsigned char WORD_BMP[0x10000 / 8]; /* bit per code point below 0x10000 */

/* A word character as re's \w sees it (alphanumeric or '_'); a bit test in the BMP. */
static inline int is_word(Py_UCS4 ch) {
    if (ch < 0x10000) return (WORD_BMP[ch >> 3] >> (ch & 7)) & 1;
    return Py_UNICODE_ISALNUM(ch);
}

/* The word hash: FNV-1a over the code points (FNV_STEP from FNV_START), then a finaliser
 * that mixes in the length. The tokenizer and hash_word both use these, so they agree. */
#define FNV_START 0xcbf29ce484222325ULL
#define FNV_STEP(h, ch) (((h) ^ (ch)) * 0x100000001b3ULL)
#define ARENA_FIRST 4096

static inline uint64_t fmix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb3f99ef2ae7bULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t hash_finish(uint64_t h, Py_ssize_t len) {
    return fmix(h ^ ((uint64_t)len << 56));
}

static inline uint64_t hash_word(int kind, const void *data, Py_ssize_t start, Py_ssize_t len) {
    uint64_t h = FNV_START;
    for (Py_ssize_t i = 0; i < len; i++) h = FNV_STEP(h, PyUnicode_READ(kind, data, start + i));
    return hash_finish(h, len);
}

static inline int same(const uint16_t *stored, int kind, const void *data, Py_ssize_t start,
                       uint32_t len) {
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = (const Py_UCS1 *)data + start;
        for (uint32_t i = 0; i < len; i++)
            if (stored[i] != d[i]) return 0;
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = (const Py_UCS2 *)data + start;
        for (uint32_t i = 0; i < len; i++)
            if (stored[i] != d[i]) return 0;
    } else {
        const Py_UCS4 *d = (const Py_UCS4 *)data + start;
        for (uint32_t i = 0; i < len; i++)
            if (stored[i] != d[i]) return 0;
    }
    return 1;
}

/* The slot holding the word, or the empty slot where it would go. */
static Slot *find(WordTable *t, uint64_t h, int kind, const void *data, Py_ssize_t start,
                  uint32_t len) {
    size_t mask = t->cap - 1, i = (size_t)h & mask;
    for (;;) {
        Slot *s = &t->slots[i];
        if (s->key == NULL) return s;
        if (s->hash == (uint32_t)h && s->len == len &&
            same(t->arena + s->off, kind, data, start, len))
            return s;
        i = (i + 1) & mask;
    }
}

/* Forget every word and give the memory back: FIRST_CAP empty slots, no arena (-1: no memory). */
static int clear_slots(WordTable *t) {
    for (size_t i = 0; i < t->cap; i++) Py_CLEAR(t->slots[i].key);
    if (t->cap != FIRST_CAP) {
        PyMem_Free(t->slots);
        t->slots = NULL;
        t->cap = 0;
    }
    if (t->slots == NULL) {
        t->slots = PyMem_Calloc(FIRST_CAP, sizeof(Slot));
        if (t->slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->cap = FIRST_CAP;
    } else memset(t->slots, 0, t->cap * sizeof(Slot));
    PyMem_Free(t->arena);
    t->arena = NULL;
    t->arena_cap = t->arena_len = 0;
    t->count = 0;
    t->key_bytes = 0;
    return 0;
}

/* Bytes the table holds: its slots, its arena and the key strings it added. */
static size_t table_bytes(WordTable *t, size_t cap, size_t arena_cap, size_t key_bytes) {
    return sizeof(WordTable) + cap * sizeof(Slot) + arena_cap * sizeof(uint16_t) + key_bytes;
}

/* A key string's size (sys.getsizeof) and its share of the interned strings' dict. */
static size_t key_size(PyObject *key) {
    size_t head = PyUnicode_IS_ASCII(key) ? sizeof(PyASCIIObject) : sizeof(PyCompactUnicodeObject);
    size_t body = (size_t)(PyUnicode_GET_LENGTH(key) + 1) * (size_t)PyUnicode_KIND(key);
    return head + body + 3 * sizeof(PyObject *);
}

static int grow(WordTable *t) {
    size_t cap = t->cap * 2;
    Slot *slots = PyMem_Calloc(cap, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++) {
        Slot *s = &t->slots[i];
        if (s->key == NULL) continue;
        size_t j = (size_t)s->hash & (cap - 1);
        while (slots[j].key != NULL) j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    PyMem_Free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

/* Make room for `need` items of `size` bytes in a growable buffer (doubling from `first`). */
static int reserve(void **buf, size_t *cap, size_t need, size_t size, size_t first) {
    if (need <= *cap) return 0;
    size_t grown = *cap ? *cap : first;
    while (grown < need) grown *= 2;
    void *more = PyMem_Realloc(*buf, grown * size);
    if (more == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *buf = more;
    *cap = grown;
    return 0;
}

static int WordTable_init(WordTable *t, PyObject *args, PyObject *kwds) {
    static char *names[] = {"limit", "max_word", "max_bytes", NULL};
    Py_ssize_t limit = 500000, max_word = 64, max_bytes = PY_SSIZE_T_MAX;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|nnn", names, &limit, &max_word, &max_bytes))
        return -1;
    if (limit < 1 || max_word < 1 || max_word > MAX_WORD || max_bytes < 1) {
        PyErr_SetString(PyExc_ValueError,
                        "limit, max_word and max_bytes must be positive (max_word < 256)");
        return -1;
    }
    if (t->busy) {
        PyErr_SetString(PyExc_RuntimeError, "WordTable is in use: one call at a time");
        return -1;
    }
    if (clear_slots(t) < 0) return -1;
    t->limit = (size_t)limit;
    t->max_word = max_word;
    t->max_bytes = (size_t)max_bytes;
    return 0;
}

static void WordTable_dealloc(WordTable *t) {
    if (t->slots != NULL) {
        for (size_t i = 0; i < t->cap; i++) Py_XDECREF(t->slots[i].key);
        PyMem_Free(t->slots);
    }
    PyMem_Free(t->arena);
    PyMem_Free(t->toks);
    Py_XDECREF(t->anchors);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

/* One field's words, for one storage kind of str (CHAR: Py_UCS1, Py_UCS2 or Py_UCS4). */
#define TOKENIZE(CHAR)                                                                     \
    do {                                                                                   \
        const CHAR *d = (const CHAR *)data;                                                \
        while (i < len) {                                                                  \
            while (i < len && !is_word(d[i])) i++;                                         \
            if (i >= len) break;                                                           \
            Py_ssize_t start = i;                                                          \
            uint64_t h = FNV_START;                                                        \
            int wide = 0;                                                                  \
            for (; i < len && is_word(d[i]); i++) {                                        \
                wide |= (Py_UCS4)d[i] > 0xFFFF;                                            \
                h = FNV_STEP(h, d[i]);                                                     \
            }                                                                              \
            Tok *tok = &t->toks[n++];                                                      \
            tok->start = start;                                                            \
            tok->len = (uint32_t)(i - start);                                              \
            tok->field = (uint32_t)f;                                                      \
            tok->wide = wide;                                                              \
            tok->slot = NULL;                                                              \
            tok->hash = hash_finish(h, i - start);                                         \
            __builtin_prefetch(&t->slots[(size_t)tok->hash & (t->cap - 1)]);               \
        }                                                                                  \
    } while (0)

/* Split every field into words (as re's \w+ does) and hash them; returns the count. */
static Py_ssize_t tokenize(WordTable *t, PyObject *norms) {
    Py_ssize_t nf = PyList_GET_SIZE(norms);
    size_t n = 0;
    for (Py_ssize_t f = 0; f < nf; f++) {
        PyObject *text = PyList_GET_ITEM(norms, f);
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "fields must be str");
            return -1;
        }
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t len = PyUnicode_GET_LENGTH(text), i = 0;
        if (reserve((void **)&t->toks, &t->toks_cap, n + (size_t)len / 2 + 1, sizeof(Tok), 256) < 0)
            return -1;
        if (kind == PyUnicode_1BYTE_KIND) TOKENIZE(Py_UCS1);
        else if (kind == PyUnicode_2BYTE_KIND) TOKENIZE(Py_UCS2);
        else TOKENIZE(Py_UCS4);
    }
    return (Py_ssize_t)n;
}

static PyObject *word_of(PyObject *norms, Tok *tok) {
    PyObject *text = PyList_GET_ITEM(norms, tok->field);
    return PyUnicode_Substring(text, tok->start, tok->start + tok->len);
}

/* The word of a token the table does not hold, if overflow has it (-1: error). */
static int in_overflow(PyObject *norms, Tok *tok, PyObject *overflow) {
    if (overflow == Py_None) return 0;
    PyObject *word = word_of(norms, tok);
    if (word == NULL) return -1;
    int known = PyDict_Contains(overflow, word);
    Py_DECREF(word);
    return known;
}

/* Words without a key, once each (a list): the caller keys them, add()s them, scans again. */
static PyObject *misses(WordTable *t, PyObject *norms, Py_ssize_t n, PyObject *overflow) {
    PyObject *seen = PyDict_New(), *out = NULL;
    if (seen == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        Tok *tok = &t->toks[i];
        if (tok->slot != NULL) continue;
        int known = in_overflow(norms, tok, overflow);
        if (known < 0) goto done;
        if (known) continue;
        PyObject *word = word_of(norms, tok);
        if (word == NULL) goto done;
        int err = PyDict_SetItem(seen, word, Py_None);
        Py_DECREF(word);
        if (err < 0) goto done;
    }
    out = PyDict_Keys(seen);
done:
    Py_DECREF(seen);
    return out;
}

static void set_anchors(WordTable *t, PyObject *anchors) {
    if (anchors == t->anchors) return;
    Py_INCREF(anchors);
    Py_XSETREF(t->anchors, anchors);
    t->gen++;
    if (t->gen == 0) { /* wrapped: forget every flag */
        for (size_t i = 0; i < t->cap; i++) t->slots[i].gen = 0;
        t->gen = 1;
    }
}

static PyObject *spans_of(WordTable *t, Py_ssize_t from, Py_ssize_t to) {
    PyObject *out = PyBytes_FromStringAndSize(NULL, (to - from) * 2 * (Py_ssize_t)sizeof(int32_t));
    if (out == NULL) return NULL;
    int32_t *at = (int32_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = from; i < to; i++) {
        *at++ = (int32_t)t->toks[i].start;
        *at++ = (int32_t)(t->toks[i].start + t->toks[i].len);
    }
    return out;
}

/* Append key to the list unless it is there already (-1: error). */
static int list_once(PyObject *list, PyObject *key) {
    int listed = PySequence_Contains(list, key);
    return listed < 0 ? -1 : listed ? 0 : PyList_Append(list, key);
}

/* scan(norms, sep, anchors, overflow) -> (keys, anchored, counts, spans), or the list of
 * words that neither the table nor overflow (a dict of word -> key, or None) holds. */
static PyObject *scan_impl(WordTable *t, PyObject *args) {
    PyObject *norms, *sep, *anchors, *overflow;
    if (!PyArg_ParseTuple(args, "O!UO!O", &PyList_Type, &norms, &sep, &PyDict_Type, &anchors,
                          &overflow))
        return NULL;
    if (overflow != Py_None && !PyDict_Check(overflow)) {
        PyErr_SetString(PyExc_TypeError, "overflow must be a dict or None");
        return NULL;
    }
    Py_ssize_t n = tokenize(t, norms);
    if (n < 0) return NULL;
    Py_ssize_t missing = 0;
    for (Py_ssize_t i = 0; i < n; i++) { /* the home slots are in cache: prefetch their words */
        Slot *home = &t->slots[(size_t)t->toks[i].hash & (t->cap - 1)];
        if (home->hash == (uint32_t)t->toks[i].hash) {
            __builtin_prefetch(t->arena + home->off);
            __builtin_prefetch(home->key, 1);
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Tok *tok = &t->toks[i];
        if (tok->len <= t->max_word && !tok->wide) {
            PyObject *text = PyList_GET_ITEM(norms, tok->field);
            Slot *s = find(t, tok->hash, PyUnicode_KIND(text), PyUnicode_DATA(text),
                           tok->start, tok->len);
            if (s->key != NULL) {
                tok->slot = s;
                continue;
            }
        }
        missing++;
    }
    for (Py_ssize_t i = 0; missing && i < n; i++) {
        if (t->toks[i].slot != NULL) continue;
        int known = in_overflow(norms, &t->toks[i], overflow);
        if (known < 0) return NULL;
        if (!known) return misses(t, norms, n, overflow);
    }
    set_anchors(t, anchors);
    Py_ssize_t nf = PyList_GET_SIZE(norms);
    if (++t->scans == 0) { /* wrapped: forget which keys earlier scans listed */
        for (size_t k = 0; k < t->cap; k++) t->slots[k].seen = 0;
        t->scans = 1;
    }
    PyObject *keys = PyList_New(n + nf), *anchored = PyList_New(0);
    PyObject *spans = PyList_New(nf), *counts = PyList_New(nf), *result = NULL;
    if (keys == NULL || anchored == NULL || spans == NULL || counts == NULL) goto fail;
    Py_ssize_t pos = 0, i = 0;
    for (Py_ssize_t f = 0; f < nf; f++) {
        Py_ssize_t first = i;
        for (; i < n && t->toks[i].field == (uint32_t)f; i++, pos++) {
            Tok *tok = &t->toks[i];
            PyObject *key;
            if (tok->slot != NULL) {
                Slot *s = tok->slot;
                key = s->key;
                if (s->gen != t->gen) {
                    int found = PyDict_Contains(anchors, key);
                    if (found < 0) goto fail;
                    s->anchored = (uint8_t)found;
                    s->gen = t->gen;
                }
                if (s->anchored && s->seen != t->scans) {
                    s->seen = t->scans;
                    /* another word with the same key may have been listed already */
                    if (list_once(anchored, key) < 0) goto fail;
                }
            } else { /* a word the table does not hold: keyed through overflow */
                PyObject *word = word_of(norms, tok);
                if (word == NULL) goto fail;
                key = PyDict_GetItemWithError(overflow, word);
                Py_DECREF(word);
                if (key == NULL) {
                    if (!PyErr_Occurred()) PyErr_SetString(PyExc_KeyError, "overflow word");
                    goto fail;
                }
                int is_anchor = PyDict_Contains(anchors, key);
                if (is_anchor < 0) goto fail;
                if (is_anchor && list_once(anchored, key) < 0) goto fail;
            }
            Py_INCREF(key);
            PyList_SET_ITEM(keys, pos, key);
        }
        Py_INCREF(sep);
        PyList_SET_ITEM(keys, pos, sep);
        pos++;
        PyObject *field_spans = spans_of(t, first, i);
        if (field_spans == NULL) goto fail;
        PyList_SET_ITEM(spans, f, field_spans);
        PyObject *count = PyLong_FromSsize_t(i - first);
        if (count == NULL) goto fail;
        PyList_SET_ITEM(counts, f, count);
    }
    result = PyTuple_Pack(4, keys, anchored, counts, spans);
fail:
    Py_XDECREF(counts);
    Py_XDECREF(keys);
    Py_XDECREF(anchored);
    Py_XDECREF(spans);
    return result;
}

/* Whether a word can be kept (not too long, no character beyond the BMP). */
static inline int keepable(WordTable *t, PyObject *word) {
    return PyUnicode_GET_LENGTH(word) <= t->max_word && PyUnicode_KIND(word) != PyUnicode_4BYTE_KIND;
}

/* Room for one more word of len code points and a key of key_bytes: the table grown as it
 * must be, or started over when that would pass a limit; 0 when the word cannot be kept
 * even by an empty table, -1 on error. */
static int make_room(WordTable *t, size_t len, size_t key_bytes) {
    for (int fresh = 0;; fresh = 1) {
        size_t cap = t->cap, arena_cap = t->arena_cap;
        if ((t->count + 1) * 4 > cap * 3) cap *= 2; /* at most 3/4 full: probes stay short */
        if (t->arena_len + len > arena_cap) {
            arena_cap = arena_cap ? arena_cap : ARENA_FIRST;
            while (arena_cap < t->arena_len + len) arena_cap *= 2;
        }
        int fits = t->count < t->limit &&
                   table_bytes(t, cap, arena_cap, t->key_bytes + key_bytes) <= t->max_bytes;
        if (fits) {
            if (cap != t->cap && grow(t) < 0) return -1;
            return reserve((void **)&t->arena, &t->arena_cap, t->arena_len + len,
                           sizeof(uint16_t), ARENA_FIRST) < 0 ? -1 : 1;
        }
        if (fresh) return 0;
        if (clear_slots(t) < 0) return -1; /* news vocabulary: starting over is cheap */
    }
}

/* add(words, keys): remember each word's key (words longer than max_word, or with a
 * character beyond the BMP, are skipped). */
static PyObject *add_impl(WordTable *t, PyObject *args) {
    PyObject *words, *keys;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &words, &PyList_Type, &keys)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(words);
    if (PyList_GET_SIZE(keys) != n) {
        PyErr_SetString(PyExc_ValueError, "words and keys differ in length");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *word = PyList_GET_ITEM(words, i), *key = PyList_GET_ITEM(keys, i);
        if (!PyUnicode_Check(word) || !PyUnicode_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "words and keys must be str");
            return NULL;
        }
        if (!keepable(t, word)) continue;
        Py_ssize_t len = PyUnicode_GET_LENGTH(word);
        int kind = PyUnicode_KIND(word);
        const void *data = PyUnicode_DATA(word);
        uint64_t h = hash_word(kind, data, 0, len);
        if (find(t, h, kind, data, 0, (uint32_t)len)->key != NULL) continue;
        size_t kb = key_size(key);
        int room = make_room(t, (size_t)len, kb);
        if (room < 0) return NULL;
        if (room == 0) continue;
        Slot *s = find(t, h, kind, data, 0, (uint32_t)len); /* the slots may have moved */
        for (Py_ssize_t j = 0; j < len; j++)
            t->arena[t->arena_len + (size_t)j] = (uint16_t)PyUnicode_READ(kind, data, j);
        Py_INCREF(key);
        PyUnicode_InternInPlace(&key);
        s->hash = (uint32_t)h;
        s->key = key;
        s->off = (uint32_t)t->arena_len;
        s->len = (uint8_t)len;
        s->gen = 0;
        s->anchored = 0;
        s->seen = 0;
        t->arena_len += (size_t)len;
        t->key_bytes += kb;
        t->count++;
    }
    Py_RETURN_NONE;
}

/* get(word) -> key or None */
static PyObject *WordTable_get(WordTable *t, PyObject *word) {
    if (!PyUnicode_Check(word)) {
        PyErr_SetString(PyExc_TypeError, "word must be str");
        return NULL;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(word);
    if (keepable(t, word)) {
        int kind = PyUnicode_KIND(word);
        const void *data = PyUnicode_DATA(word);
        Slot *s = find(t, hash_word(kind, data, 0, len), kind, data, 0, (uint32_t)len);
        if (s->key != NULL) return Py_NewRef(s->key);
    }
    Py_RETURN_NONE;
}

/* split(norms, sep) -> every field's words, each field followed by sep */
static PyObject *split_impl(WordTable *t, PyObject *args) {
    PyObject *norms, *sep;
    if (!PyArg_ParseTuple(args, "O!U", &PyList_Type, &norms, &sep)) return NULL;
    Py_ssize_t n = tokenize(t, norms);
    if (n < 0) return NULL;
    Py_ssize_t nf = PyList_GET_SIZE(norms), pos = 0, i = 0;
    PyObject *out = PyList_New(n + nf);
    if (out == NULL) return NULL;
    for (Py_ssize_t f = 0; f < nf; f++) {
        for (; i < n && t->toks[i].field == (uint32_t)f; i++) {
            PyObject *word = word_of(norms, &t->toks[i]);
            if (word == NULL) {
                Py_DECREF(out);
                return NULL;
            }
            PyList_SET_ITEM(out, pos++, word);
        }
        PyList_SET_ITEM(out, pos++, Py_NewRef(sep));
    }
    return out;
}

static int enter(WordTable *t) {
    if (t->busy) {
        PyErr_SetString(PyExc_RuntimeError, "WordTable is in use: one call at a time");
        return -1;
    }
    t->busy = 1;
    return 0;
}

/* Each call runs alone: the token buffer and the slots it points into are shared. */
#define GUARDED(NAME)                                                                      \
    static PyObject *WordTable_##NAME(WordTable *t, PyObject *args) {                      \
        if (enter(t) < 0) return NULL;                                                     \
        PyObject *out = NAME##_impl(t, args);                                              \
        t->busy = 0;                                                                       \
        return out;                                                                        \
    }
GUARDED(scan)
GUARDED(add)
GUARDED(split)

static PyObject *WordTable_clear(WordTable *t, PyObject *Py_UNUSED(ignored)) {
    if (enter(t) < 0) return NULL;
    int err = clear_slots(t);
    t->busy = 0;
    if (err < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *WordTable_nbytes(WordTable *t, PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromSize_t(table_bytes(t, t->cap, t->arena_cap, t->key_bytes));
}

static Py_ssize_t WordTable_len(WordTable *t) { return (Py_ssize_t)t->count; }

/* The 1:1 punctuation of alerts.matching.text._PUNCT (a test checks the two agree). */
static const Py_UCS4 PUNCT[] = {0x2018, 0x2019, 0x201A, 0x201B, 0x2032, 0x00B4, 0x201C,
                                0x201D, 0x201E, 0x201F, 0x2033, 0x00AB, 0x00BB, 0x2010,
                                0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0x02BC};

static inline int is_punct(Py_UCS4 ch) {
    for (size_t j = 0; j < sizeof(PUNCT) / sizeof(PUNCT[0]); j++)
        if (PUNCT[j] == ch) return 1;
    return 0;
}

static inline int plain_char(Py_UCS4 ch) {
    return ch < 128 || (ch >= 0x0430 && ch <= 0x044F) || ch == 0x0454 || ch == 0x0456 ||
           ch == 0x0457 || ch == 0x0491;
}

/* plainness(lowered) -> 0: only ASCII and plain Cyrillic letters; 1: also the 1:1
 * punctuation; 2: anything else (alerts.matching.text's two regexes, in one pass). */
static PyObject *plainness(PyObject *module, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text), out = 0;
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (plain_char(ch)) continue;
        if (!is_punct(ch)) return PyLong_FromLong(2);
        out = 1;
    }
    return PyLong_FromLong(out);
}

/* The lower-case of a character that lowers to a plain one or to 1:1 punctuation (as
 * str.lower() does), or 0 when the character needs the general path. */
static inline Py_UCS4 lower_plain_char(Py_UCS4 ch, int *punct) {
    if (ch < 128) return (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
    if (ch >= 0x0410 && ch <= 0x042F) return ch + 0x20;
    if (ch == 0x0404 || ch == 0x0406 || ch == 0x0407) return ch + 0x50; /* Є І Ї */
    if (ch == 0x0490) return 0x0491;                                      /* Ґ */
    if (plain_char(ch)) return ch;
    if (!is_punct(ch)) return 0;
    *punct = 1;
    return ch;
}

/* lower_plain(text) -> (text.lower(), plainness) when the lowered text is plain but for
 * 1:1 punctuation, else None: the caller takes the general path. */
static PyObject *lower_plain(PyObject *module, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text), punct = 0;
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyUnicode_New(len, PyUnicode_MAX_CHAR_VALUE(text));
    if (out == NULL) return NULL;
    int out_kind = PyUnicode_KIND(out);
    void *out_data = PyUnicode_DATA(out);
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 low = lower_plain_char(PyUnicode_READ(kind, data, i), &punct);
        if (low == 0) {
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        PyUnicode_WRITE(out_kind, out_data, i, low);
    }
    return Py_BuildValue("(Ni)", out, punct);
}

/* index_all(entries) -> {entry: [positions]} of a list of str, in one pass (positions
 * below 257 are CPython's cached small ints: an item's list allocates no int). */
static PyObject *index_all(PyObject *module, PyObject *entries) {
    if (!PyList_Check(entries)) {
        PyErr_SetString(PyExc_TypeError, "entries must be a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(entries);
    PyObject *out = _PyDict_NewPresized(n);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i), *at = PyLong_FromSsize_t(i);
        if (at == NULL) goto fail;
        PyObject *found = PyDict_GetItemWithError(out, entry);
        int err;
        if (found != NULL) err = PyList_Append(found, at);
        else if (PyErr_Occurred()) err = -1;
        else {
            PyObject *fresh = PyList_New(1);
            if (fresh == NULL) err = -1;
            else {
                PyList_SET_ITEM(fresh, 0, Py_NewRef(at));
                err = PyDict_SetItem(out, entry, fresh);
                Py_DECREF(fresh);
            }
        }
        Py_DECREF(at);
        if (err < 0) goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* flagged(keys, bitmap, mask, hash_mask, out): append to out hash(key) & hash_mask for
 * each key of a dict whose bit (that value & mask) the bitmap holds, in the dict's order
 * (alerts.matching.scan._flagged's twin; a test checks the two agree). */
static PyObject *flagged(PyObject *module, PyObject *args) {
    PyObject *keys, *out, *key, *value;
    Py_buffer bitmap;
    unsigned long long mask, hash_mask;
    if (!PyArg_ParseTuple(args, "O!y*KKO!", &PyDict_Type, &keys, &bitmap, &mask, &hash_mask,
                          &PyList_Type, &out))
        return NULL;
    const unsigned char *bits = (const unsigned char *)bitmap.buf;
    if ((unsigned long long)bitmap.len <= (mask >> 3)) {
        PyBuffer_Release(&bitmap);
        PyErr_SetString(PyExc_ValueError, "the bitmap is shorter than the mask says");
        return NULL;
    }
    Py_ssize_t pos = 0;
    while (PyDict_Next(keys, &pos, &key, &value)) {
        Py_hash_t h = PyObject_Hash(key);
        if (h == -1) goto fail;
        unsigned long long hashed = (unsigned long long)h & hash_mask, slot = hashed & mask;
        if (!(bits[slot >> 3] >> (slot & 7) & 1)) continue; /* most keys */
        PyObject *at = PyLong_FromUnsignedLongLong(hashed);
        if (at == NULL) goto fail;
        int err = PyList_Append(out, at);
        Py_DECREF(at);
        if (err < 0) goto fail;
    }
    PyBuffer_Release(&bitmap);
    Py_RETURN_NONE;
fail:
    PyBuffer_Release(&bitmap);
    return NULL;
}

/* The Latin spelling skeleton's letter step (alerts.matching.variants._skeleton_py's twin,
 * a test checks the two agree): k before h dropped, y and j as i, z as s, w as v, ł as l,
 * then every letter a-z that the same letter follows dropped. One pass over the text, where
 * the regex for the last step (([a-z])(?=\1)) tries a match at every character. */
static inline Py_UCS4 skeleton_char(Py_UCS4 ch) {
    switch (ch) {
    case 'y': case 'j': return 'i';
    case 'z': return 's';
    case 'w': return 'v';
    case 0x0142: return 'l'; /* ł */
    default: return ch;
    }
}

static PyObject *skeleton(PyObject *module, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), n = 0;
    Py_UCS4 *out = PyMem_Malloc((len ? len : 1) * sizeof(Py_UCS4));
    if (out == NULL) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch == 'k' && i + 1 < len && PyUnicode_READ(kind, data, i + 1) == 'h') continue;
        ch = skeleton_char(ch);
        if (n > 0 && ch == out[n - 1] && ch >= 'a' && ch <= 'z') continue; /* one of a run */
        out[n++] = ch;
    }
    PyObject *result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, n);
    PyMem_Free(out);
    return result;
}

/* Snowball stems of a list of words in one call: PyStemmer's stemWords without a Python
 * call, an encode and a decode object per word. PyStemmer (3.1.0) is built with Snowball's
 * libstemmer_c inside its module and exports libstemmer's C API from it (sb_stemmer_new,
 * _stem, _length, _delete): found there with dlsym, the same code stems the same bytes
 * (UTF-8 in and out, as stemWord does). Where the module does not export them, the
 * constructor raises ImportError and alerts.matching.languages keeps PyStemmer's own call;
 * tests/matching/test_languages.py checks both that they are found and that the stems agree. */
struct sb_stemmer;
typedef struct sb_stemmer *(*sb_new_fn)(const char *, const char *);
typedef const unsigned char *(*sb_stem_fn)(struct sb_stemmer *, const unsigned char *, int);
typedef int (*sb_length_fn)(struct sb_stemmer *);
typedef void (*sb_delete_fn)(struct sb_stemmer *);

typedef struct {
    PyObject_HEAD
    void *library;
    struct sb_stemmer *stemmer;
    sb_stem_fn stem;
    sb_length_fn length;
    sb_delete_fn delete;
} Snowball;

static int Snowball_init(Snowball *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"library", "algorithm", NULL};
    const char *library, *algorithm;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "ss", names, &library, &algorithm)) return -1;
    if (self->library != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Snowball is initialised once");
        return -1;
    }
    self->library = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (self->library == NULL) {
        const char *why = dlerror();
        PyErr_Format(PyExc_ImportError, "cannot open %s: %s", library, why ? why : "?");
        return -1;
    }
    dlerror(); /* clear: a NULL from dlsym is told by dlerror() */
    sb_new_fn make = (sb_new_fn)dlsym(self->library, "sb_stemmer_new");
    self->stem = (sb_stem_fn)dlsym(self->library, "sb_stemmer_stem");
    self->length = (sb_length_fn)dlsym(self->library, "sb_stemmer_length");
    self->delete = (sb_delete_fn)dlsym(self->library, "sb_stemmer_delete");
    if (make == NULL || self->stem == NULL || self->length == NULL || self->delete == NULL) {
        const char *why = dlerror();
        PyErr_Format(PyExc_ImportError, "%s does not export libstemmer's functions: %s", library,
                     why ? why : "?");
        return -1;
    }
    self->stemmer = make(algorithm, "UTF_8");
    if (self->stemmer == NULL) {
        PyErr_Format(PyExc_KeyError, "no Snowball algorithm %s", algorithm);
        return -1;
    }
    return 0;
}

static void Snowball_dealloc(Snowball *self) {
    if (self->stemmer != NULL) self->delete(self->stemmer);
    if (self->library != NULL) dlclose(self->library);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* One word's stem; NULL with an exception set on failure.
 * Thread safety: one Snowball (one sb_stemmer, whose buffer holds the last stem) is shared by
 * every thread (per language in alerts.matching.languages._STEMMERS, and variants' module-level
 * _RU). That is safe only because the GIL is held from sb_stemmer_stem through
 * sb_stemmer_length and the decode of the stem, with no Python code run in between (no
 * callback, no object freed that could run a finaliser): keep it so, never release the GIL
 * here (Py_BEGIN_ALLOW_THREADS) nor call back into Python between the two. */
static PyObject *stem_one(Snowball *self, PyObject *word) {
    if (!PyUnicode_Check(word)) {
        PyErr_SetString(PyExc_TypeError, "words must be str");
        return NULL;
    }
    PyObject *encoded = NULL;
    const char *bytes;
    Py_ssize_t len;
    if (PyUnicode_IS_ASCII(word)) { /* ASCII is its own UTF-8 */
        bytes = (const char *)PyUnicode_DATA(word);
        len = PyUnicode_GET_LENGTH(word);
    } else {
        encoded = PyUnicode_AsUTF8String(word);
        if (encoded == NULL) return NULL;
        bytes = PyBytes_AS_STRING(encoded);
        len = PyBytes_GET_SIZE(encoded);
    }
    PyObject *out = NULL;
    if (len > INT_MAX) PyErr_SetString(PyExc_ValueError, "word too long to stem");
    else {
        const unsigned char *stem = self->stem(self->stemmer, (const unsigned char *)bytes, (int)len);
        if (stem == NULL) PyErr_NoMemory();
        else out = PyUnicode_DecodeUTF8((const char *)stem, self->length(self->stemmer), NULL);
    }
    Py_XDECREF(encoded);
    return out;
}

static PyObject *Snowball_stem_words(Snowball *self, PyObject *words) {
    if (!PyList_Check(words)) {
        PyErr_SetString(PyExc_TypeError, "words must be a list");
        return NULL;
    }
    if (self->stemmer == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Snowball is not initialised");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(words);
    PyObject *out = PyList_New(n);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *stem = stem_one(self, PyList_GET_ITEM(words, i));
        if (stem == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, stem);
    }
    return out;
}

static PyMethodDef module_methods[] = {
    {"flagged", (PyCFunction)flagged, METH_VARARGS,
     "flagged(keys, bitmap, mask, hash_mask, out): append the flagged keys' masked hashes"},
    {"index_all", (PyCFunction)index_all, METH_O,
     "index_all(entries) -> {entry: [positions]} in one pass"},
    {"lower_plain", (PyCFunction)lower_plain, METH_O,
     "lower_plain(text) -> (text.lower(), 0 or 1 as plainness) or None"},
    {"plainness", (PyCFunction)plainness, METH_O,
     "plainness(lowered) -> 0 plain, 1 plain but for 1:1 punctuation, 2 other"},
    {"skeleton", (PyCFunction)skeleton, METH_O,
     "skeleton(text) -> its Latin spelling skeleton (kh, y/j, z, w, ł folded; runs undone)"},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef WordTable_methods[] = {
    {"scan", (PyCFunction)WordTable_scan, METH_VARARGS,
     "scan(norms, sep, anchors, overflow) -> (keys, anchored, counts, spans) or a list of "
     "words without a key"},
    {"add", (PyCFunction)WordTable_add, METH_VARARGS, "add(words, keys): remember keys"},
    {"get", (PyCFunction)WordTable_get, METH_O, "get(word) -> its key or None"},
    {"split", (PyCFunction)WordTable_split, METH_VARARGS,
     "split(norms, sep) -> the words of every field, each field followed by sep"},
    {"clear", (PyCFunction)WordTable_clear, METH_NOARGS, "forget every word"},
    {"nbytes", (PyCFunction)WordTable_nbytes, METH_NOARGS,
     "nbytes() -> bytes held: slots, arena and the key strings added"},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef Snowball_methods[] = {
    {"stem_words", (PyCFunction)Snowball_stem_words, METH_O,
     "stem_words(words) -> the stem of each (a list of str), as PyStemmer's stemWords"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SnowballType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "alerts.matching._wordkeys.Snowball",
    .tp_basicsize = sizeof(Snowball),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Snowball(library, algorithm): libstemmer's stemmer, from PyStemmer's module.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Snowball_init,
    .tp_dealloc = (destructor)Snowball_dealloc,
    .tp_methods = Snowball_methods,
};

static PySequenceMethods WordTable_as_sequence = {.sq_length = (lenfunc)WordTable_len};

static PyTypeObject WordTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "alerts.matching._wordkeys.WordTable",
    .tp_basicsize = sizeof(WordTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Words to keys, in one open-addressing table (see the module's docstring).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)WordTable_init,
    .tp_dealloc = (destructor)WordTable_dealloc,
    .tp_methods = WordTable_methods,
    .tp_as_sequence = &WordTable_as_sequence,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "alerts.matching._wordkeys",
    .m_doc = "Word splitting and word keys at C speed (twin of alerts.matching.keytable).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__wordkeys(void) {
    for (Py_UCS4 c = 0; c < 0x10000; c++)
        if (c == '_' || Py_UNICODE_ISALNUM(c)) WORD_BMP[c >> 3] |= (unsigned char)(1 << (c & 7));
    if (PyType_Ready(&WordTableType) < 0 || PyType_Ready(&SnowballType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "WordTable", (PyObject *)&WordTableType) < 0 ||
        PyModule_AddObjectRef(m, "Snowball", (PyObject *)&SnowballType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
