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
 * `spawn` starts a command from the calling thread. `submit` hands it to a
 * thread of this module that lives as long as the process, so the event
 * loop goes on while the child waits for a CPU to reach exec. The thread
 * starts the waiting command of the lowest rank first, so that when many
 * steps start together, the one the scheduler chose first does not wait for
 * the others. The result
 * comes back as a record on the pipe that `start_thread` returns. Linux
 * sends the parent-death signal when the thread that started the child
 * exits, and this thread never exits before the process does.
 *
 * Python's side (process.py) falls back to subprocess when this module was
 * not built.
 */

#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
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
    /* The signal mask the command starts with. */
    sigset_t child_mask;
    int child_mask_set;
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
    if (!request->child_mask_set) {
        request->child_mask = saved_mask;
        request->child_mask_set = 1;
    }
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

/* The arguments that `spawn` and `submit` share, checked and converted for execve. */
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

/* The starting thread: a queue of jobs in, a pipe of result records out. */

struct job {
    struct job *next;
    long long ticket;
    long long rank;
    struct request request;
    /* The strings and pointer arrays of `request`, in one allocation. */
    char storage[];
};

struct result {
    long long ticket;
    int pid;
    int stage;
    int error;
    int unused;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_ready = PTHREAD_COND_INITIALIZER;
/* Waiting jobs by rank, and in the order of their submission within a rank. */
static struct job *queue_head;
static int results[2] = {-1, -1};
static sigset_t thread_child_mask;

static void *
run_thread(void *unused)
{
    (void)unused;
    for (;;) {
        struct job *job;
        struct result record;
        const char *data;
        size_t left;

        pthread_mutex_lock(&queue_lock);
        while (queue_head == NULL) {
            pthread_cond_wait(&queue_ready, &queue_lock);
        }
        job = queue_head;
        queue_head = job->next;
        pthread_mutex_unlock(&queue_lock);

        memset(&record, 0, sizeof(record));
        record.ticket = job->ticket;
        record.pid = (int)start(&job->request);
        record.stage = job->request.stage;
        record.error = job->request.error;
        free(job);

        /* A record is shorter than PIPE_BUF, so it arrives whole. */
        data = (const char *)&record;
        left = sizeof(record);
        while (left > 0) {
            ssize_t written = write(results[1], data, left);
            if (written < 0) {
                if (errno == EINTR) {
                    continue;
                }
                break;
            }
            data += written;
            left -= (size_t)written;
        }
    }
    return NULL;
}

PyDoc_STRVAR(start_thread_doc,
"start_thread() -> fd\n\n"
"Start the thread that `submit` hands commands to, once per process, and\n"
"return the non-blocking read end of the pipe of its result records.\n"
"Commands get the signal mask of the thread that first calls this.");

static PyObject *
start_thread(PyObject *module, PyObject *unused)
{
    pthread_attr_t attributes;
    pthread_t thread;
    sigset_t all, old;
    int error;

    (void)module;
    (void)unused;
    if (results[0] >= 0) {
        return PyLong_FromLong(results[0]);
    }
    if (pipe2(results, O_CLOEXEC) != 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if (fcntl(results[0], F_SETFL, O_NONBLOCK) != 0) {
        goto failed;
    }
    /* The thread blocks every signal, so that signals go to Python's threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_child_mask = old;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    error = pthread_create(&thread, &attributes, run_thread, NULL);
    pthread_attr_destroy(&attributes);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (error != 0) {
        errno = error;
        goto failed;
    }
    return PyLong_FromLong(results[0]);

failed:
    PyErr_SetFromErrno(PyExc_OSError);
    close(results[0]);
    close(results[1]);
    results[0] = results[1] = -1;
    return NULL;
}

/* Copy a NULL-terminated array of strings into `*cursor`; return the copy. */
static char **
copy_array(char **array, char **cursor_pointers, char **cursor)
{
    char **copy = cursor_pointers;
    size_t i;
    for (i = 0; array[i] != NULL; i++) {
        size_t size = strlen(array[i]) + 1;
        memcpy(*cursor, array[i], size);
        copy[i] = *cursor;
        *cursor += size;
    }
    copy[i] = NULL;
    return copy;
}

static size_t
array_size(char **array, size_t *count)
{
    size_t size = 0, i;
    for (i = 0; array[i] != NULL; i++) {
        size += strlen(array[i]) + 1;
    }
    *count = i;
    return size;
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

PyDoc_STRVAR(submit_doc,
"submit(ticket, rank, path, argv, envp, cwd, stdin_fd, output_fd, die_with_parent)\n\n"
"Hand a command to the thread of `start_thread`, which starts it as `spawn`\n"
"would and writes a record (ticket, pid, stage, errno) to the result pipe.\n"
"Of the commands waiting for the thread, the one of the lowest `rank` starts\n"
"first, and commands of one rank start in the order of submission.\n"
"The descriptors must stay open until the record has arrived.");

static PyObject *
submit(PyObject *module, PyObject *args)
{
    PyObject *argv_obj, *envp_obj, *path_obj, *cwd_obj;
    struct arguments arguments;
    struct request request;
    char **argv, **envp;
    int stdin_fd, output_fd, die_with_parent;
    long long ticket, rank;
    size_t argc, envc, strings, pointers;
    struct job *job, **link;
    char *cursor;
    char **pointer_cursor;

    (void)module;
    if (!PyArg_ParseTuple(args, "LLSOOSiip:submit", &ticket, &rank, &arguments.path_obj,
                          &argv_obj, &envp_obj, &arguments.cwd_obj, &stdin_fd, &output_fd,
                          &die_with_parent)) {
        return NULL;
    }
    if (results[0] < 0) {
        PyErr_SetString(PyExc_RuntimeError, "start_thread() was not called");
        return NULL;
    }
    if (prepare_arguments(&arguments, argv_obj, envp_obj, stdin_fd, output_fd, &request) < 0) {
        return NULL;
    }
    argv = arguments.argv;
    envp = arguments.envp;
    path_obj = arguments.path_obj;
    cwd_obj = arguments.cwd_obj;

    strings = array_size(argv, &argc) + array_size(envp, &envc) +
              (size_t)PyBytes_GET_SIZE(path_obj) + 1 + (size_t)PyBytes_GET_SIZE(cwd_obj) + 1;
    pointers = (argc + 1 + envc + 1) * sizeof(char *);
    job = malloc(sizeof(struct job) + pointers + strings);
    if (job == NULL) {
        release_arguments(&arguments);
        return PyErr_NoMemory();
    }
    memset(job, 0, sizeof(struct job));
    job->ticket = ticket;
    job->rank = rank;
    job->request = request;
    pointer_cursor = (char **)job->storage;
    cursor = job->storage + pointers;
    job->request.argv = copy_array(argv, pointer_cursor, &cursor);
    job->request.envp = copy_array(envp, pointer_cursor + argc + 1, &cursor);
    memcpy(cursor, PyBytes_AS_STRING(path_obj), (size_t)PyBytes_GET_SIZE(path_obj) + 1);
    job->request.path = cursor;
    cursor += PyBytes_GET_SIZE(path_obj) + 1;
    memcpy(cursor, PyBytes_AS_STRING(cwd_obj), (size_t)PyBytes_GET_SIZE(cwd_obj) + 1);
    job->request.cwd = cursor;
    job->request.die_with_parent = die_with_parent;
    job->request.child_mask = thread_child_mask;
    job->request.child_mask_set = 1;
    release_arguments(&arguments);

    pthread_mutex_lock(&queue_lock);
    /* Only the commands that start together wait here: a sorted list is enough. */
    link = &queue_head;
    while (*link != NULL && (*link)->rank <= rank) {
        link = &(*link)->next;
    }
    job->next = *link;
    *link = job;
    pthread_cond_signal(&queue_ready);
    pthread_mutex_unlock(&queue_lock);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"spawn", spawn, METH_VARARGS, spawn_doc},
    {"start_thread", start_thread, METH_NOARGS, start_thread_doc},
    {"submit", submit, METH_VARARGS, submit_doc},
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
        PyModule_AddIntConstant(created, "STAGE_FORK", STAGE_FORK) < 0 ||
        PyModule_AddIntConstant(created, "RESULT_SIZE", (long)sizeof(struct result)) < 0) {
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
