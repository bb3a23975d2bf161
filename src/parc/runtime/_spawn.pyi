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
