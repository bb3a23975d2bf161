STAGE_NONE: int
STAGE_CWD: int
STAGE_EXEC: int
STAGE_OTHER: int
STAGE_FORK: int
RESULT_SIZE: int

def spawn(
    path: bytes,
    argv: list[bytes],
    envp: list[bytes],
    cwd: bytes,
    stdin_fd: int,
    output_fd: int,
    die_with_parent: bool,
    /,
) -> int: ...
def start_thread() -> int: ...
def submit(
    ticket: int,
    rank: int,
    path: bytes,
    argv: list[bytes],
    envp: list[bytes],
    cwd: bytes,
    stdin_fd: int,
    output_fd: int,
    die_with_parent: bool,
    /,
) -> None: ...
