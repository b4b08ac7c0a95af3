//! Larger buffers for pipes on standard input and output.
//!
//! A pipe holds 64 KiB by default, so moving 1 GiB through `cat |
//! cnnops ... | ...` takes some 16 000 wake-ups on each side. Linux lets
//! any process holding one end raise that to `/proc/sys/fs/pipe-max-size`
//! (1 MiB unless the administrator changed it), and then both ends move
//! data in MiB-sized blocks. Best effort: anything that is not a pipe, a
//! refused size or another system is left as it is.

/// The pipe size asked for: the default unprivileged maximum.
#[cfg(target_os = "linux")]
const PIPE_BYTES: usize = 1 << 20;

/// Grows the pipe on standard input, if it is one.
pub fn grow_stdin() {
    #[cfg(target_os = "linux")]
    grow(std::io::stdin());
}

/// Grows the pipe on standard output, if it is one.
pub fn grow_stdout() {
    #[cfg(target_os = "linux")]
    grow(std::io::stdout());
}

#[cfg(target_os = "linux")]
fn grow(fd: impl std::os::fd::AsFd) {
    use rustix::fs::{FileType, fstat};
    let is_pipe = fstat(&fd).is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Fifo);
    if is_pipe {
        // Refused (EPERM above the limit, EBUSY if the pipe holds more
        // than the new size): the pipe keeps its size, which is fine.
        let _ = rustix::pipe::fcntl_setpipe_size(&fd, PIPE_BYTES);
    }
}
