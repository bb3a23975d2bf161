/*
 * Start a command with vfork, in a new session, with a parent-death signal.
 *
 * subprocess can only set PR_SET_PDEATHSIG through preexec_fn, which makes
 * it fork the whole interpreter and run Python in the child: 3-9 ms per
 * command, during which the event loop waits. Here the child shares the
 * parent's memory until exec (vfork), makes only system calls, and reports
 * a failure through memory it shares with the parent.
 *
 * The child does what subprocess.Popen does for parc's arguments
 * (start_new_session, close_fds, restore_signals, stdin from a descriptor,
 * stdout and stderr on one descriptor, cwd, env), plus the parent-death
 * signal.
 *
 * `spawn` starts a command from the calling thread, which must live as long
 * as the command: Linux sends the parent-death signal when the *thread* that
 * started the child exits. parc calls it from its event loop's thread.
 *
 * Python's side (process.py) falls back to subprocess when this module was
 * not built.
 */

#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE
#include <Python.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The step at which a child failed before exec. */
enum stage { STAGE_NONE = 0, STAGE_CWD, STAGE_EXEC, STAGE_OTHER, STAGE_FORK };

struct request {
    pid_t pid;
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int stdin_fd;
    int output_fd;
    int die_with_parent;
    pid_t parent;
    /* The signal mask the command starts with: the calling thread's. */
    sigset_t child_mask;
    volatile int error;
    volatile int stage;
};

static void __attribute__((noreturn))
fail(struct request *request, int stage)
{
    request->error = errno;
    request->stage = stage;
    _exit(127);
}

/* Runs in the vfork child: system calls only, no allocation, no Python. */
static void __attribute__((noinline, noreturn))
child(struct request *request)
{
    struct sigaction action;
    int signum;

    /* A handler installed by the parent must not run in the child while
     * it shares the parent's memory, and an exec would reset it anyway.
     * SIGPIPE and SIGXFSZ, which Python ignores, go back to the default as
     * subprocess's restore_signals does; other ignored signals stay
     * ignored. */
    for (signum = 1; signum < NSIG; signum++) {
        if (sigaction(signum, NULL, &action) != 0) {
            continue;
        }
        if (action.sa_handler == SIG_DFL) {
            continue;
        }
        if (action.sa_handler == SIG_IGN && signum != SIGPIPE && signum != SIGXFSZ) {
            continue;
        }
        action.sa_handler = SIG_DFL;
        action.sa_flags = 0;
        sigemptyset(&action.sa_mask);
        sigaction(signum, &action, NULL);
    }
    if (pthread_sigmask(SIG_SETMASK, &request->child_mask, NULL) != 0) {
        fail(request, STAGE_OTHER);
    }

    if (setsid() < 0) {
        fail(request, STAGE_OTHER);
    }
    if (request->die_with_parent) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
            fail(request, STAGE_OTHER);
        }
        /* The parent may have died before the request: it came too late. */
        if (getppid() != request->parent) {
            kill(getpid(), SIGKILL);
        }
    }

    if (dup2(request->stdin_fd, 0) < 0 || dup2(request->output_fd, 1) < 0 ||
        dup2(request->output_fd, 2) < 0) {
        fail(request, STAGE_OTHER);
    }
    if (request->cwd != NULL && chdir(request->cwd) != 0) {
        fail(request, STAGE_CWD);
    }
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        fail(request, STAGE_OTHER);
    }
    execve(request->path, request->argv, request->envp);
    fail(request, STAGE_EXEC);
}

/* Fork with vfork and wait for the child to exec or fail. Returns -1, with `error` set, on failure. */
static pid_t __attribute__((noinline))
start(struct request *request)
{
    sigset_t all, saved_mask;
    pid_t pid;
    int saved;

    /* No signal handler may run in the child while it shares our memory. */
    sigfillset(&all);
    saved = pthread_sigmask(SIG_BLOCK, &all, &saved_mask);
    if (saved != 0) {
        request->error = saved;
        request->stage = STAGE_FORK;
        return -1;
    }
    request->child_mask = saved_mask;
    pid = vfork();
    if (pid == 0) {
        child(request);
    }
    saved = errno;
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    if (pid < 0) {
        request->error = saved;
        request->stage = STAGE_FORK;
        return -1;
    }
    if (request->stage != STAGE_NONE) {
        /* The child exited without exec, so it is ours to reap. */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    request->pid = pid;
    return pid;
}

/* Fill `array` with pointers into the bytes objects of `sequence`, NULL-terminated. */
static char **
to_array(PyObject *sequence)
{
    Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
    PyObject **items = PySequence_Fast_ITEMS(sequence);
    char **array = PyMem_Calloc((size_t)count + 1, sizeof(char *));
    Py_ssize_t i;

    if (array == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (i = 0; i < count; i++) {
        char *data;
        Py_ssize_t size;
        if (PyBytes_AsStringAndSize(items[i], &data, &size) < 0) {
            PyMem_Free(array);
            return NULL;
        }
        if ((size_t)size != strlen(data)) {
            PyErr_SetString(PyExc_ValueError, "embedded null byte");
            PyMem_Free(array);
            return NULL;
        }
        array[i] = data;
    }
    array[count] = NULL;
    return array;
}

/* The arguments of `spawn`, checked and converted for execve. */
struct arguments {
    PyObject *path_obj, *cwd_obj;
    PyObject *argv_seq, *envp_seq;
    char **argv, **envp;
};

static void
release_arguments(struct arguments *arguments)
{
    PyMem_Free(arguments->argv);
    PyMem_Free(arguments->envp);
    Py_XDECREF(arguments->argv_seq);
    Py_XDECREF(arguments->envp_seq);
}

/* Check and convert the arguments; on failure, set the exception, release them and return -1. */
static int
prepare_arguments(struct arguments *arguments, PyObject *argv_obj, PyObject *envp_obj,
                  int stdin_fd, int output_fd, struct request *request)
{
    PyObject *path_obj = arguments->path_obj, *cwd_obj = arguments->cwd_obj;

    arguments->argv_seq = arguments->envp_seq = NULL;
    arguments->argv = arguments->envp = NULL;
    if (strlen(PyBytes_AS_STRING(path_obj)) != (size_t)PyBytes_GET_SIZE(path_obj) ||
        strlen(PyBytes_AS_STRING(cwd_obj)) != (size_t)PyBytes_GET_SIZE(cwd_obj)) {
        PyErr_SetString(PyExc_ValueError, "embedded null byte");
        return -1;
    }
    if (stdin_fd < 3 || output_fd < 3) {
        PyErr_SetString(PyExc_ValueError, "stdin_fd and output_fd must be 3 or more");
        return -1;
    }
    arguments->argv_seq = PySequence_Fast(argv_obj, "argv must be a sequence of bytes");
    if (arguments->argv_seq != NULL) {
        arguments->envp_seq = PySequence_Fast(envp_obj, "envp must be a sequence of bytes");
    }
    if (arguments->envp_seq != NULL) {
        arguments->argv = to_array(arguments->argv_seq);
    }
    if (arguments->argv != NULL) {
        arguments->envp = to_array(arguments->envp_seq);
    }
    if (arguments->envp == NULL) {
        release_arguments(arguments);
        return -1;
    }

    memset(request, 0, sizeof(*request));
    request->path = PyBytes_AS_STRING(path_obj);
    request->argv = arguments->argv;
    request->envp = arguments->envp;
    request->cwd = PyBytes_AS_STRING(cwd_obj);
    request->stdin_fd = stdin_fd;
    request->output_fd = output_fd;
    request->parent = getpid();
    return 0;
}

PyDoc_STRVAR(spawn_doc,
"spawn(path, argv, envp, cwd, stdin_fd, output_fd, die_with_parent) -> pid\n\n"
"Start `path` with `argv` and `envp` (lists of bytes) in `cwd` (bytes), in a\n"
"new session, stdin from `stdin_fd`, stdout and stderr on `output_fd`, every\n"
"other descriptor closed. With `die_with_parent`, the child gets SIGKILL\n"
"when the calling thread exits. Raises OSError when it cannot start; its\n"
"filename is `cwd` when changing to it failed.");

static PyObject *
spawn(PyObject *module, PyObject *args)
{
    PyObject *argv_obj, *envp_obj;
    struct arguments arguments;
    int stdin_fd, output_fd, die_with_parent;
    struct request request;
    PyObject *result = NULL;

    (void)module;
    if (!PyArg_ParseTuple(args, "SOOSiip:spawn", &arguments.path_obj, &argv_obj, &envp_obj,
                          &arguments.cwd_obj, &stdin_fd, &output_fd, &die_with_parent)) {
        return NULL;
    }
    if (prepare_arguments(&arguments, argv_obj, envp_obj, stdin_fd, output_fd, &request) < 0) {
        return NULL;
    }
    request.die_with_parent = die_with_parent;

    Py_BEGIN_ALLOW_THREADS
    start(&request);
    Py_END_ALLOW_THREADS

    if (request.stage == STAGE_NONE) {
        result = PyLong_FromLong((long)request.pid);
    } else {
        errno = request.error;
        if (request.stage == STAGE_CWD) {
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, arguments.cwd_obj);
        } else if (request.stage == STAGE_EXEC) {
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, arguments.path_obj);
        } else {
            PyErr_SetFromErrno(PyExc_OSError);
        }
    }
    release_arguments(&arguments);
    return result;
}

static PyMethodDef methods[] = {
    {"spawn", spawn, METH_VARARGS, spawn_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_spawn", "Start commands with vfork and a parent-death signal.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__spawn(void)
{
    PyObject *created = PyModule_Create(&module);
    if (created == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(created, "STAGE_NONE", STAGE_NONE) < 0 ||
        PyModule_AddIntConstant(created, "STAGE_CWD", STAGE_CWD) < 0 ||
        PyModule_AddIntConstant(created, "STAGE_EXEC", STAGE_EXEC) < 0 ||
        PyModule_AddIntConstant(created, "STAGE_OTHER", STAGE_OTHER) < 0 ||
        PyModule_AddIntConstant(created, "STAGE_FORK", STAGE_FORK) < 0) {
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
