//! The worker: the fuzz binary started as `wfsim-fuzz worker`, running inputs one at a time
//! for its parent. A stack overflow or an allocation failure aborts a process, and no
//! `catch_unwind` can stop that, so inputs run here, away from the parent's bookkeeping.
//!
//! Protocol: the parent writes an input as a 4-byte little-endian length and its encoding
//! ([`Input::encode`]); the worker answers one line: `ok accepted`, `ok refused`,
//! `panic LOCATION<TAB>MESSAGE` or `invalid REASON`. Nothing else is written to stdout; on
//! an abort, stderr carries Rust's own last words, which the parent reads.

use std::io::{self, BufWriter, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

use crate::exec::{self, Ran};
use crate::input::{Input, one_line};

/// The stack inputs run on: 8 MiB, the main thread's usual size on Linux, fixed so that
/// every machine overflows at the same depth.
pub const STACK_SIZE: usize = 8 << 20;

/// Live heap bytes a worker may hold (see [`crate::budget`]).
pub const MEMORY_BUDGET: usize = 1 << 30;

/// Panic messages longer than this are cut: a message may quote a huge input.
const MESSAGE_MAX: usize = 2000;

/// The last panic's `location<TAB>message`, set by the hook, taken after the unwind.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Serves inputs from stdin until it closes.
pub fn serve() -> io::Result<()> {
    panic::set_hook(Box::new(|info| {
        let location = info.location().map_or_else(
            || "unknown".to_owned(),
            |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
        );
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_owned());
        let text = format!("{location}\t{}", one_line(&cut(&payload, MESSAGE_MAX)));
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(text);
        }
    }));
    let inputs = std::thread::Builder::new()
        .name("fuzz-input".into())
        .stack_size(STACK_SIZE)
        .spawn(serve_on_this_thread)?;
    inputs.join().unwrap_or_else(|_| {
        Err(io::Error::other(
            "the input thread panicked outside an input",
        ))
    })
}

fn serve_on_this_thread() -> io::Result<()> {
    let mut stdin = io::stdin().lock();
    let mut stdout = BufWriter::new(io::stdout().lock());
    loop {
        let mut len = [0u8; 4];
        match stdin.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
        stdin.read_exact(&mut bytes)?;
        let reply = answer(&bytes);
        drop(bytes);
        writeln!(stdout, "{reply}")?;
        stdout.flush()?;
    }
}

/// The answer line for one encoded input.
fn answer(bytes: &[u8]) -> String {
    let input = match Input::decode(bytes) {
        Ok(i) => i,
        Err(e) => return format!("invalid {}", one_line(&e)),
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| exec::run(&input)));
    drop(input);
    match result {
        Ok(Ok(Ran::Accepted)) => "ok accepted".to_owned(),
        Ok(Ok(Ran::Refused)) => "ok refused".to_owned(),
        Ok(Err(e)) => format!("invalid {}", one_line(&e)),
        Err(_) => {
            let last = LAST_PANIC.lock().ok().and_then(|mut l| l.take());
            format!(
                "panic {}",
                last.unwrap_or_else(|| "unknown\t(no message)".to_owned())
            )
        }
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_char_boundaries() {
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("\u{e9}\u{e9}", 3), "\u{e9}… (4 bytes)");
        assert_eq!(cut("abcdef", 2), "ab… (6 bytes)");
    }

    #[test]
    fn answers_name_what_happened() {
        assert!(answer(b"kind: nope\n").starts_with("invalid unknown kind"));
        let ok = Input::Stdlib(crate::input::StdlibCall {
            function: "len".into(),
            args: vec![Some(crate::recipe::Recipe::str("x"))],
        });
        assert_eq!(answer(&ok.encode()), "ok accepted");
    }
}
