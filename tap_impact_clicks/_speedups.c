/*
 * tap_impact_clicks._speedups: the per-click typing of records.Normaliser, in C.
 *
 * type_flat(record, known) types one flat click in place, exactly as Normaliser's Python loop
 * would, when all its fields are in `known` and every value has a common shape (it returns 0).
 * Otherwise it changes nothing: 1 when a field is not in `known` (records._lift first), 2 when
 * a value has another shape (the Python loop types the click). The common shapes:
 *
 *   - every value is a str or None;
 *   - a placeholder ("", "n/a", "na", "null" in any ASCII case) becomes None, except
 *     CustomerCountry "NA" (Namibia);
 *   - CpcBid and Payout: ASCII digits (an int), digits "." digits (a float), either with
 *     thousands separators (1,250.50), or a placeholder;
 *   - UniqueClick: true/True/TRUE or false/False/FALSE, or a placeholder;
 *   - EventDate: an RFC 3339 date-time with an offset and a real day (kept as sent), or a
 *     placeholder.
 *
 * Anything else (a number sent as a JSON number, "1,250.50", " n/a ", a naive date-time, ...)
 * is left to the Python code, so both give the same record. tests/test_records.py and
 * tests/test_properties.py check that they do.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

enum field { TEXT, NUMBER, BOOLEAN, DATETIME, COUNTRY };

static enum field
field_of(PyObject *key)
{
    if (!PyUnicode_Check(key) || !PyUnicode_IS_ASCII(key)) {
        return TEXT;
    }
    const char *s = (const char *)PyUnicode_1BYTE_DATA(key);
    switch (PyUnicode_GET_LENGTH(key)) {
    case 6:
        if (memcmp(s, "CpcBid", 6) == 0 || memcmp(s, "Payout", 6) == 0) {
            return NUMBER;
        }
        break;
    case 9:
        if (memcmp(s, "EventDate", 9) == 0) {
            return DATETIME;
        }
        break;
    case 11:
        if (memcmp(s, "UniqueClick", 11) == 0) {
            return BOOLEAN;
        }
        break;
    case 15:
        if (memcmp(s, "CustomerCountry", 15) == 0) {
            return COUNTRY;
        }
        break;
    }
    return TEXT;
}

static int
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Whether an ASCII text equals `word` (lower case) in any case. */
static int
equals_any_case(const char *s, Py_ssize_t n, const char *word)
{
    if ((Py_ssize_t)strlen(word) != n) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (lower(s[i]) != word[i]) {
            return 0;
        }
    }
    return 1;
}

static int
is_placeholder(const char *s, Py_ssize_t n)
{
    switch (n) {
    case 0:
        return 1;
    case 2:
        return equals_any_case(s, n, "na");
    case 3:
        return equals_any_case(s, n, "n/a");
    case 4:
        return equals_any_case(s, n, "null");
    }
    return 0;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
all_digits(const char *s, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return 0;
        }
    }
    return 1;
}

/* Whether a text is digits in groups of three: 1,250 or 1,250,000 (before any "."). */
static int
thousands(const char *s, Py_ssize_t n)
{
    Py_ssize_t first = n % 4 == 0 ? 0 : n % 4;
    if (n < 5 || first == 0 || !all_digits(s, first)) {
        return 0;
    }
    for (Py_ssize_t i = first; i < n; i += 4) {
        if (s[i] != ',' || !all_digits(s + i + 1, 3)) {
            return 0;
        }
    }
    return 1;
}

/* A number in a common shape (a new reference), or NULL with no error set when it is not:
 * 1250, 1250.50, 1,250 or 1,250.50 (as records._number_text and _number_odd read them). */
static PyObject *
number(PyObject *value, const char *s, Py_ssize_t n)
{
    if (n == 0 || n > 30) {
        return NULL;
    }
    if (all_digits(s, n)) {
        return PyLong_FromUnicodeObject(value, 10);
    }
    const char *point = memchr(s, '.', n);
    Py_ssize_t whole = point == NULL ? n : point - s;
    if (memchr(s, ',', whole) != NULL) {
        /* thousands separators: the same number without them */
        char plain[32];
        Py_ssize_t length = 0;
        if (!thousands(s, whole)) {
            return NULL;
        }
        if (point != NULL && (point == s + n - 1 || !all_digits(point + 1, n - whole - 1))) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            if (s[i] != ',') {
                plain[length++] = s[i];
            }
        }
        plain[length] = '\0';
        if (point == NULL) {
            return PyLong_FromString(plain, NULL, 10);
        }
        double parsed = PyOS_string_to_double(plain, NULL, NULL);
        if (parsed == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        return PyFloat_FromDouble(parsed);
    }
    if (point == NULL || point == s || point == s + n - 1) {
        return NULL;
    }
    if (!all_digits(s, whole) || !all_digits(point + 1, n - whole - 1)) {
        return NULL;
    }
    double parsed = PyOS_string_to_double(s, NULL, NULL);
    if (parsed == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    return PyFloat_FromDouble(parsed);
}

/* True, False (new references), or NULL when the text is no common boolean. */
static PyObject *
boolean(const char *s, Py_ssize_t n)
{
    if ((n == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "True", 4) == 0 ||
                    memcmp(s, "TRUE", 4) == 0))) {
        Py_RETURN_TRUE;
    }
    if ((n == 5 && (memcmp(s, "false", 5) == 0 || memcmp(s, "False", 5) == 0 ||
                    memcmp(s, "FALSE", 5) == 0))) {
        Py_RETURN_FALSE;
    }
    return NULL;
}

static int
two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static int
days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) {
        return 29;
    }
    return days[month - 1];
}

/* Whether a text is an RFC 3339 date-time with an offset and a real day:
 * YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM|-HH:MM), as records._rfc3339_as_sent accepts. */
static int
rfc3339(const char *s, Py_ssize_t n)
{
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
        return 0;
    }
    if (!all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2) || !all_digits(s + 11, 2) ||
        !all_digits(s + 14, 2) || !all_digits(s + 17, 2)) {
        return 0;
    }
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + two(s + 2);
    int month = two(s + 5), day = two(s + 8);
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
        return 0;
    }
    if (two(s + 11) > 23 || two(s + 14) > 59 || two(s + 17) > 59) {
        return 0;
    }
    Py_ssize_t i = 19;
    if (s[i] == '.') {
        Py_ssize_t start = ++i;
        while (i < n && is_digit(s[i])) {
            i++;
        }
        if (i == start || i - start > 6) {
            return 0;
        }
    }
    if (i == n - 1) {
        return s[i] == 'Z';
    }
    if (i != n - 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':') {
        return 0;
    }
    return all_digits(s + i + 1, 2) && all_digits(s + i + 4, 2) && two(s + i + 1) <= 23 &&
           two(s + i + 4) <= 59;
}

#define MAX_TYPED 8

enum outcome { TYPED = 0, UNKNOWN_FIELD = 1, UNCOMMON = 2 };

static PyObject *
type_flat(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyDict_CheckExact(args[0]) || !PyAnySet_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "type_flat(record: dict, known: frozenset)");
        return NULL;
    }
    PyObject *record = args[0], *known = args[1];
    PyObject *keys[MAX_TYPED];
    PyObject *typed[MAX_TYPED];
    int count = 0, placeholders = 0, uncommon = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *value;

    /* First pass: check every key and value and type the typed fields, changing nothing.
     * An unknown field is reported before any uncommon value (records._lift goes first). */
    while (PyDict_Next(record, &pos, &key, &value)) {
        int is_known = PySet_Contains(known, key);
        if (is_known <= 0) {
            for (int i = 0; i < count; i++) {
                Py_DECREF(typed[i]);
            }
            if (is_known < 0) {
                return NULL;
            }
            return PyLong_FromLong(UNKNOWN_FIELD);
        }
        if (value == Py_None || uncommon) {
            continue;
        }
        if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) {
            if (PyUnicode_CheckExact(value) && field_of(key) == TEXT) {
                continue; /* non-ASCII text: never a placeholder, kept as it is */
            }
            /* a JSON number, boolean, list or object, or non-ASCII text in a typed field */
            uncommon = 1;
            continue;
        }
        const char *s = (const char *)PyUnicode_1BYTE_DATA(value);
        Py_ssize_t n = PyUnicode_GET_LENGTH(value);
        enum field kind = field_of(key);
        if (is_placeholder(s, n)) {
            if (!(kind == COUNTRY && n == 2 && s[0] == 'N' && s[1] == 'A')) {
                placeholders++;
            }
            continue;
        }
        PyObject *result = NULL;
        if (kind == NUMBER) {
            result = number(value, s, n);
        }
        else if (kind == BOOLEAN) {
            result = boolean(s, n);
        }
        else if (kind == DATETIME) {
            uncommon = !rfc3339(s, n);
            continue; /* kept as sent */
        }
        else {
            continue; /* text */
        }
        if (result == NULL || count == MAX_TYPED) {
            Py_XDECREF(result);
            PyErr_Clear();
            uncommon = 1;
            continue;
        }
        keys[count] = key;
        typed[count] = result;
        count++;
    }

    if (uncommon) {
        goto uncommon;
    }

    /* Second pass: placeholders to None. Values change, the dict's size does not. */
    if (placeholders) {
        pos = 0;
        while (PyDict_Next(record, &pos, &key, &value)) {
            if (value == Py_None || !PyUnicode_IS_ASCII(value)) {
                continue;
            }
            const char *s = (const char *)PyUnicode_1BYTE_DATA(value);
            Py_ssize_t n = PyUnicode_GET_LENGTH(value);
            if (!is_placeholder(s, n)) {
                continue;
            }
            if (n == 2 && s[0] == 'N' && s[1] == 'A' && field_of(key) == COUNTRY) {
                continue;
            }
            if (PyDict_SetItem(record, key, Py_None) < 0) {
                goto error;
            }
        }
    }
    for (int i = 0; i < count; i++) {
        if (PyDict_SetItem(record, keys[i], typed[i]) < 0) {
            goto error;
        }
        Py_CLEAR(typed[i]);
    }
    return PyLong_FromLong(TYPED);

uncommon:
    PyErr_Clear();
    for (int i = 0; i < count; i++) {
        Py_DECREF(typed[i]);
    }
    return PyLong_FromLong(UNCOMMON);

error:
    for (int i = 0; i < count; i++) {
        Py_XDECREF(typed[i]);
    }
    return NULL;
}


/* records._placeholder_free: None for None or a placeholder (after strip, in any case). */
static PyObject *
placeholder_free(PyObject *value, PyObject *placeholders)
{
    if (value == Py_None || !PyUnicode_Check(value)) {
        return Py_NewRef(value);
    }
    PyObject *stripped = PyObject_CallMethod(value, "strip", NULL);
    if (stripped == NULL) {
        return NULL;
    }
    PyObject *lowered = PyObject_CallMethod(stripped, "lower", NULL);
    Py_DECREF(stripped);
    if (lowered == NULL) {
        return NULL;
    }
    int found = PySet_Contains(placeholders, lowered);
    Py_DECREF(lowered);
    if (found < 0) {
        return NULL;
    }
    return found ? Py_NewRef(Py_None) : Py_NewRef(value);
}

/* Whether a record's current value may be replaced by a nested group's: None or a placeholder. */
static int
replaceable(PyObject *current)
{
    if (current == NULL || current == Py_None) {
        return 1;
    }
    return PyUnicode_CheckExact(current) && PyUnicode_IS_ASCII(current) &&
           is_placeholder((const char *)PyUnicode_1BYTE_DATA(current),
                          PyUnicode_GET_LENGTH(current));
}

/* extra[name] = placeholder_free(value), the name prefixed with "_" when it is in renamed. */
static int
keep_extra(PyObject *extra, PyObject *name, PyObject *value, PyObject *renamed,
           PyObject *placeholders)
{
    int rename = PySet_Contains(renamed, name);
    if (rename < 0) {
        return -1;
    }
    PyObject *key = rename ? PyUnicode_FromFormat("_%U", name) : Py_NewRef(name);
    if (key == NULL) {
        return -1;
    }
    PyObject *kept = placeholder_free(value, placeholders);
    int result = kept == NULL ? -1 : PyDict_SetItem(extra, key, kept);
    Py_DECREF(key);
    Py_XDECREF(kept);
    return result;
}

/* lift(record, known, groups, renamed, placeholders): records._lift, in C. */
static PyObject *
lift(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 5 || !PyDict_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "lift(record: dict, known, groups, renamed, placeholders)");
        return NULL;
    }
    PyObject *record = args[0], *known = args[1], *groups = args[2], *renamed = args[3];
    PyObject *placeholders = args[4];
    PyObject *unknown = PyList_New(0), *extra = PyDict_New();
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    if (unknown == NULL || extra == NULL) {
        goto error;
    }
    while (PyDict_Next(record, &pos, &key, &value)) {
        int is_known = PySet_Contains(known, key);
        if (is_known < 0 || (!is_known && PyList_Append(unknown, key) < 0)) {
            goto error;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(unknown); i++) {
        key = PyList_GET_ITEM(unknown, i);
        value = PyDict_GetItemWithError(record, key);
        if (value == NULL) {
            goto error;
        }
        Py_INCREF(value);
        if (PyDict_DelItem(record, key) < 0) {
            Py_DECREF(value);
            goto error;
        }
        int group = PySet_Contains(groups, key);
        if (group < 0) {
            Py_DECREF(value);
            goto error;
        }
        if (group && PyDict_CheckExact(value)) {
            PyObject *inner_key, *inner_value;
            Py_ssize_t inner = 0;
            while (PyDict_Next(value, &inner, &inner_key, &inner_value)) {
                int inner_known = PySet_Contains(known, inner_key);
                int failed = inner_known < 0;
                if (inner_known > 0) {
                    PyObject *current = PyDict_GetItemWithError(record, inner_key);
                    failed = current == NULL && PyErr_Occurred();
                    if (!failed && replaceable(current)) {
                        failed = PyDict_SetItem(record, inner_key, inner_value) < 0;
                    }
                }
                else if (inner_known == 0) {
                    failed = keep_extra(extra, inner_key, inner_value, renamed, placeholders) < 0;
                }
                if (failed) {
                    Py_DECREF(value);
                    goto error;
                }
            }
        }
        else if (keep_extra(extra, key, value, renamed, placeholders) < 0) {
            Py_DECREF(value);
            goto error;
        }
        Py_DECREF(value);
    }
    Py_DECREF(unknown);
    return extra;

error:
    Py_XDECREF(unknown);
    Py_XDECREF(extra);
    return NULL;
}

static PyMethodDef methods[] = {
    {"type_flat", (PyCFunction)(void (*)(void))type_flat, METH_FASTCALL,
     "type_flat(record, known): type a click in place when all its fields are known and all\n"
     "its values have common shapes (0); else change nothing: 1, a field not in known;\n"
     "2, a value of another shape."},
    {"lift", (PyCFunction)(void (*)(void))lift, METH_FASTCALL,
     "lift(record, known, groups, renamed, placeholders): records._lift, in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "The per-click typing of records.Normaliser, in C (optional: the Python code does the "
    "same).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
