/* py3langid's scores at C speed: the byte walk and the weighted sum, in one call.
 *
 * The model reads a text as a walk through a finite automaton, one step per byte; a state
 * may name a feature. Each language's score is its prior plus, over the features visited,
 * log1p(visits) times the feature's weight for the language. In Python the walk alone cost
 * the API about 0.1 ms of CPU per 200-byte sample, and the numpy sum a few calls more.
 * ``scores`` takes the tables as arrays (the transitions: uint32 states, 256 per row; each
 * state's row offset: uint32; each state's feature or -1: int32; the weights: float32,
 * features x languages; the priors: float32) and returns each language's score (summed in
 * double, features in first-visit order), or None when no state named a feature.
 *
 * The pure-Python twin is ``ScriptModel.scores`` in alerts/ingest/langmodel.py (py3langid's
 * own walk, then numpy), used when this module is not built; tests/ingest/test_langmodel.py
 * holds both to the same scores.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

static int
get_table(PyObject *obj, Py_buffer *view, char code, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->itemsize != 4 || view->format == NULL || view->format[0] != code
        || view->format[1] != '\0') {
        PyErr_Format(PyExc_TypeError, "scores: %s must be an array of 4-byte '%c'", what, code);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* A feature's count, in a small open-addressing table keyed by feature (sized for a sample). */
typedef struct {
    int32_t feature; /* -1: empty */
    uint32_t count;
} Tally;

static PyObject *
scores(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "scores(nextmove, rowbase, output, table, prior, data)");
        return NULL;
    }
    static const char codes[5] = {'I', 'I', 'i', 'f', 'f'};
    static const char *names[5] = {"nextmove", "rowbase", "output", "table", "prior"};
    Py_buffer views[6];
    PyObject *result = NULL;
    Tally *tally = NULL;
    int32_t *order = NULL;
    double *sum = NULL;
    int got = 0;
    for (; got < 5; got++) {
        if (get_table(args[got], &views[got], codes[got], names[got]) < 0)
            goto release;
    }
    if (PyObject_GetBuffer(args[5], &views[5], PyBUF_SIMPLE) < 0)
        goto release;
    got = 6;
    Py_buffer nm = views[0], base = views[1], out = views[2], table = views[3], prior = views[4],
              data = views[5];

    const uint32_t *next = nm.buf, *row = base.buf;
    const int32_t *feature = out.buf;
    const float *weights = table.buf, *bias = prior.buf;
    const unsigned char *bytes = data.buf;
    Py_ssize_t n_next = nm.len / 4, n_states = base.len / 4, langs = prior.len / 4;
    Py_ssize_t n_features = langs ? table.len / 4 / langs : 0;
    if (out.len / 4 < n_states || langs == 0 || n_features * langs * 4 != table.len) {
        PyErr_SetString(PyExc_ValueError, "scores: tables of mismatched sizes");
        goto done;
    }
    size_t slots = 16;
    while (slots < (size_t)data.len * 2)
        slots <<= 1;
    tally = PyMem_Malloc(slots * sizeof(Tally));
    order = PyMem_Malloc((size_t)(data.len + 1) * sizeof(int32_t));
    sum = PyMem_Malloc((size_t)langs * sizeof(double));
    if (tally == NULL || order == NULL || sum == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t k = 0; k < slots; k++)
        tally[k].feature = -1;
    Py_ssize_t distinct = 0;
    uint32_t state = 0;
    for (Py_ssize_t i = 0; i < data.len; i++) {
        uint64_t at = (uint64_t)row[state] + bytes[i];
        if (at >= (uint64_t)n_next || next[at] >= (uint64_t)n_states) {
            PyErr_SetString(PyExc_ValueError, "scores: a transition outside the tables");
            goto done;
        }
        state = next[at];
        int32_t f = feature[state];
        if (f < 0)
            continue;
        if (f >= n_features) {
            PyErr_SetString(PyExc_ValueError, "scores: a feature outside the table");
            goto done;
        }
        size_t k = ((uint32_t)f * 2654435761u) & (slots - 1);
        while (tally[k].feature != -1 && tally[k].feature != f)
            k = (k + 1) & (slots - 1);
        if (tally[k].feature == -1) {
            tally[k].feature = f;
            tally[k].count = 0;
            order[distinct++] = (int32_t)k;
        }
        tally[k].count++;
    }
    if (distinct == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    for (Py_ssize_t j = 0; j < langs; j++)
        sum[j] = 0.0;
    for (Py_ssize_t d = 0; d < distinct; d++) { /* first-visit order, as the Python twin */
        const Tally *t = &tally[order[d]];
        double w = log1p((double)t->count);
        const float *r = weights + (size_t)t->feature * (size_t)langs;
        for (Py_ssize_t j = 0; j < langs; j++)
            sum[j] += w * (double)r[j];
    }
    result = PyList_New(langs);
    if (result == NULL)
        goto done;
    for (Py_ssize_t j = 0; j < langs; j++) {
        PyObject *value = PyFloat_FromDouble(sum[j] + (double)bias[j]);
        if (value == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, j, value);
    }
done:
    PyMem_Free(tally);
    PyMem_Free(order);
    PyMem_Free(sum);
release:
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&views[i]);
    return got == 6 ? result : NULL;
}

static PyMethodDef methods[] = {
    {"scores", (PyCFunction)(void (*)(void))scores, METH_FASTCALL,
     "scores(nextmove, rowbase, output, table, prior, data) -> each language's log score "
     "(prior + sum of log1p(count) * table[feature]), or None when no feature"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_langwalk", "py3langid's scores in C.", 0, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__langwalk(void)
{
    return PyModule_Create(&module);
}
