//! Asking for a variable's value on the terminal, as Terraform does; sensitive answers
//! are typed without echo.

use std::io::{BufRead, Write};

/// Shows `var.NAME`, its description and "Enter a value:" on standard error, and reads one
/// line from standard input (without echoing it when `sensitive`).
pub fn ask(name: &str, description: Option<&str>, sensitive: bool) -> std::io::Result<String> {
    let mut err = std::io::stderr();
    writeln!(err, "var.{name}")?;
    if let Some(d) = description.filter(|d| !d.trim().is_empty()) {
        for line in d.lines() {
            writeln!(err, "  {line}")?;
        }
    }
    write!(err, "\n  Enter a value: ")?;
    err.flush()?;
    let line = if sensitive {
        let guard = EchoOff::new();
        let line = read_line();
        drop(guard);
        line?
    } else {
        read_line()?
    };
    writeln!(err)?;
    Ok(line)
}

fn read_line() -> std::io::Result<String> {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "standard input ended before a value was typed",
        ));
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Turns the terminal's echo off until dropped.
struct EchoOff {
    #[cfg(unix)]
    saved: Option<rustix::termios::Termios>,
}

impl EchoOff {
    #[cfg(unix)]
    fn new() -> EchoOff {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).ok();
        if let Some(t) = &saved {
            let mut quiet = t.clone();
            quiet.local_modes.remove(LocalModes::ECHO);
            quiet.local_modes.insert(LocalModes::ECHONL);
            let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
        }
        EchoOff { saved }
    }

    #[cfg(not(unix))]
    fn new() -> EchoOff {
        EchoOff {}
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(t) = &self.saved {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                t,
            );
        }
    }
}
