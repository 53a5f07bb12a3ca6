//! The interactive prompt, driven through a real terminal: `trawl sql` runs in a detached tmux
//! session of fixed size and TERM, the test types with `send-keys` and reads the screen with
//! `capture-pane`, polling until what it waits for appears (no fixed sleeps).
//!
//! Covered: a statement typed over several lines, Tab completion of a column and of nested
//! fields, meta-commands (`\d cloudtrail`, `\format`, `\timing`, `\maxrows`, `\o`, `\?`, a typo),
//! Ctrl-C cancelling a long query while the prompt lives on, Ctrl-D leaving with exit code 0,
//! and the history file written to the user's data folder.
//!
//! tmux is required: `scripts/test.sh` installs it, and without it this test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::*;

const SESSION: &str = "trawl";
const PROMPT: &str = "trawl>";
/// How long any one expected change of the screen may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// A tmux server of our own (its own socket), killed with everything in it when dropped.
struct Tmux {
    socket: PathBuf,
    /// Where the shell around the program writes its exit status.
    status: PathBuf,
}

impl Tmux {
    /// Starts `program args…` in a detached 160×50 session with `env` set.
    fn start(dir: &Path, env: &[(&str, &Path)], program: &Path, args: &[&str]) -> Tmux {
        match Command::new("tmux").arg("-V").output() {
            Ok(o) if o.status.success() => {}
            _ => panic!(
                "tmux is not installed: the prompt test drives `trawl sql` through it \
                 (scripts/test.sh installs it; or `apt-get install tmux`)"
            ),
        }
        let conf = dir.join("tmux.conf");
        // TERM is fixed; the pane stays after the program ends, so its last screen can be read.
        std::fs::write(
            &conf,
            "set -g default-terminal screen\nset -g remain-on-exit on\nset -g history-limit 10000\n",
        )
        .unwrap();
        let tmux = Tmux {
            socket: dir.join("tmux.sock"),
            status: dir.join("exit-status"),
        };
        // The server inherits this client's environment, and the pane the server's.
        let mut cmd = tmux.command();
        cmd.arg("-f").arg(&conf);
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Nothing of the caller's own tmux, lake or colour choice leaks in.
        cmd.env_remove("TMUX")
            .env_remove("TRAWL_LAKE")
            .env_remove("NO_COLOR");
        cmd.args([
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            "160",
            "-y",
            "50",
            "-c",
            dir.to_str().unwrap(),
            "--",
        ]);
        // tmux 3.3 sometimes leaves the exited program a zombie without reading its status, so
        // a shell reports it. Ctrl-C reaches the whole foreground group; the shell's trap keeps
        // it alive (and its child starts with the default SIGINT handling, as from a terminal).
        cmd.args([
            "sh",
            "-c",
            "trap : INT; s=$1; shift; \"$@\"; echo $? > \"$s\"",
            "sh",
        ]);
        cmd.arg(&tmux.status).arg(program).args(args);
        check(cmd.output().unwrap(), "tmux new-session");
        tmux
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        check(out, &args.join(" "));
        text
    }

    /// Keys by tmux name (`Enter`, `Tab`, `C-c`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Text typed as it is.
    fn type_text(&self, text: &str) {
        // tmux reads an argument ending in `;` as the end of its command, even with -l.
        let arg = match text.strip_suffix(';') {
            Some(head) => format!("{head}\\;"),
            None => text.to_string(),
        };
        self.run(&["send-keys", "-t", SESSION, "-l", &arg]);
    }

    /// Text typed, and waited for until the screen shows it (so keys that follow see it).
    fn typed(&self, text: &str) {
        self.type_text(text);
        self.wait(&format!("{text:?} on the screen"), |s| {
            s.ends_with(text.trim_end())
        });
    }

    /// A line typed and entered.
    fn line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
    }

    /// The whole pane with its scroll-back, wrapped lines joined, trailing blanks dropped.
    fn screen(&self) -> String {
        self.capture(&["-S", "-"])
    }

    /// The visible part of the pane only.
    fn visible(&self) -> String {
        self.capture(&[])
    }

    fn capture(&self, extra: &[&str]) -> String {
        let mut args = vec!["capture-pane", "-p", "-J", "-t", SESSION];
        args.extend_from_slice(extra);
        let text = self.run(&args);
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        let end = lines
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |i| i + 1);
        lines[..end].join("\n")
    }

    /// Polls the screen until `done` holds; fails with the screen after `PATIENCE`.
    fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits until the prompt is back after the last input: the screen ends in an empty prompt
    /// and holds `prompts` prompts in all.
    fn wait_prompt(&self, prompts: usize, what: &str) -> String {
        self.wait(what, |s| {
            s.lines().filter(|l| l.starts_with(PROMPT)).count() >= prompts
                && s.lines().last() == Some(PROMPT)
        })
    }

    /// Clears the screen (Ctrl-L) and the scroll-back, so the next step reads only its own output.
    fn fresh(&self) {
        self.keys(&["C-l"]);
        let start = Instant::now();
        while self.visible() != PROMPT {
            assert!(
                start.elapsed() < PATIENCE,
                "Ctrl-L did not clear:\n{}",
                self.visible()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        // The cleared lines went to the scroll-back.
        self.run(&["clear-history", "-t", SESSION]);
    }

    /// Runs one input at a fresh prompt and returns the screen once the prompt is back.
    fn step(&self, input: &str) -> String {
        self.fresh();
        self.line(input);
        self.wait_prompt(2, input)
    }

    /// The program's exit status, once it has ended.
    fn exit_status(&self) -> Option<i32> {
        let text = std::fs::read_to_string(&self.status).ok()?;
        text.trim().parse().ok()
    }

    /// The program's process id: the one child of the shell in the pane.
    fn program_pid(&self) -> u32 {
        let shell: u32 = self
            .run(&["display-message", "-p", "-t", SESSION, "#{pane_pid}"])
            .trim()
            .parse()
            .unwrap();
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        children.trim().parse().unwrap()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

fn check(out: Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// CPU time (user + system, in clock ticks) a process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the `(comm)`: state is the 3rd field of the line, utime the 14th, stime the 15th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The text after the first occurrence of `marker`.
fn after<'a>(screen: &'a str, marker: &str) -> &'a str {
    let at = screen
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{screen}"));
    &screen[at + marker.len()..]
}

#[test]
fn prompt_in_a_terminal() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let tree = repo().join("testdata/AWSLogs");
    trawl(&lake, &["ingest", tree.to_str().unwrap()]).assert_code(0);
    let mfa_rows = sql_rows(
        &lake,
        "SELECT count(*) FROM cloudtrail WHERE useridentity.sessioncontext.attributes.mfaauthenticated IS NOT NULL",
    );
    let home = dir.path().join("home");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&home).unwrap();
    let t = Tmux::start(
        dir.path(),
        &[("HOME", &home), ("XDG_DATA_HOME", &data)],
        Path::new(env!("CARGO_BIN_EXE_trawl")),
        &["--lake", lake.to_str().unwrap(), "sql"],
    );
    let banner = t.wait_prompt(1, "the first prompt");
    assert!(banner.contains("\\? for help"), "{banner}");

    // A statement over three lines runs when the `;` comes.
    t.fresh();
    t.line("SELECT count(*) AS n");
    t.line("FROM cloudtrail");
    let waiting = t.wait("the second line", |s| s.contains("FROM cloudtrail"));
    assert_eq!(
        waiting.matches(PROMPT).count(),
        1,
        "ran too early:\n{waiting}"
    );
    t.line(";");
    let s = t.wait_prompt(2, "the multi-line count");
    assert!(s.contains("| 260 |"), "{s}");
    assert!(s.contains("1 row in "), "{s}");

    // Tab completes a column, and nested fields after `useridentity.sessioncontext.`.
    t.fresh();
    t.typed("SELECT count(*) AS mfa FROM cloudtrail WHERE eventsou");
    t.keys(&["Tab"]);
    t.wait("eventsource completed", |s| {
        s.ends_with("WHERE eventsource")
    });
    t.typed(" IS NOT NULL AND useridentity.sessioncontext.");
    // Several fields fit: a second Tab lists them all below the line, as psql does.
    t.keys(&["Tab"]);
    t.keys(&["Tab"]);
    let s = t.wait("the nested fields listed", |s| {
        s.contains("sessionissuer") && s.contains("attributes")
    });
    assert!(s.contains("useridentity.sessioncontext.attributes"), "{s}");
    // The line is kept as typed; take the word back and complete a unique one.
    t.keys(&["C-w"]);
    t.wait("the word taken back", |s| s.ends_with("IS NOT NULL AND"));
    t.typed(" useridentity.sessioncontext.attributes.mfaauth");
    t.keys(&["Tab"]);
    t.wait("a unique nested field completed", |s| {
        s.ends_with("useridentity.sessioncontext.attributes.mfaauthenticated")
    });
    t.line(" IS NOT NULL;");
    let s = t.wait_prompt(2, "the completed query");
    assert!(
        s.contains(&format!("| {} ", mfa_rows[0][0])),
        "expected {mfa_rows:?}:\n{s}"
    );

    // Meta-commands.
    let s = t.step("\\d cloudtrail");
    for column in [
        "eventtime",
        "useridentity",
        "requestparameters",
        "region",
        "date",
    ] {
        assert!(
            s.lines().any(|l| l.trim_start().starts_with(column)),
            "{column}:\n{s}"
        );
    }
    assert!(s.contains("Timestamp("), "{s}");
    let s = t.step("\\timng");
    assert!(s.contains("did you mean \\timing?"), "{s}");
    let s = t.step("\\?");
    assert!(s.contains("\\format table|csv|tsv|json|ndjson"), "{s}");

    let s = t.step("\\format csv");
    assert!(s.contains("format is csv"), "{s}");
    let s = t.step(
        "SELECT eventsource, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2;",
    );
    let out = after(&s, "LIMIT 2;\n");
    assert!(
        out.starts_with("eventsource,n\nssm.amazonaws.com,138\nec2.amazonaws.com,53\n2 rows in "),
        "{s}"
    );
    let s = t.step("\\timing");
    assert!(s.contains("timing is off"), "{s}");
    let s = t.step("SELECT 'x' AS y;");
    assert!(
        after(&s, "SELECT 'x' AS y;\n").starts_with("y\nx\ntrawl>"),
        "{s}"
    );
    let s = t.step("\\timing");
    assert!(s.contains("timing is on"), "{s}");

    t.step("\\format table");
    let s = t.step("\\maxrows 2");
    assert!(s.contains("at most 2 rows"), "{s}");
    let s = t.step("SELECT eventsource FROM cloudtrail GROUP BY 1 ORDER BY 1 LIMIT 5;");
    assert_eq!(s.matches(".amazonaws.com").count(), 2, "{s}");
    assert!(s.contains("5 rows (2 shown; \\maxrows to see more)"), "{s}");

    // \o sends results to a file until a bare \o.
    let s = t.step("\\o out.txt");
    assert!(s.contains("results go to out.txt"), "{s}");
    let s = t.step("SELECT 7 * 6 AS answer;");
    assert!(!s.contains("| 42 "), "{s}");
    t.step("\\o");
    let file = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
    assert!(file.contains("| 42 "), "{file}");

    // \run runs a saved query, its window and parameters given as k=v; mistakes are named.
    let s = t.step("\\run iam-policy-changes since=2000-01-01");
    assert!(s.contains("2 rows"), "{s}");
    let s = t.step("\\run ir/access-key-activity");
    assert!(s.contains("parameter `access_key_id` is required"), "{s}");
    let s = t.step("\\run iam-policy-change");
    assert!(s.contains("did you mean `cis/iam-policy-changes`"), "{s}");

    // Ctrl-C cancels a query that would run for minutes; the prompt stays.
    t.fresh();
    t.line("SELECT max(value % 7) AS m FROM generate_series(1, 100000000000);");
    let pid = t.program_pid();
    // Busy: the query is using CPU and no prompt has come back.
    let busy_from = cpu_ticks(pid);
    t.wait("the long query running", |_| {
        cpu_ticks(pid) > busy_from + 10
    });
    assert_eq!(t.screen().matches(PROMPT).count(), 1, "{}", t.screen());
    t.keys(&["C-c"]);
    let s = t.wait_prompt(2, "the prompt after Ctrl-C");
    assert!(s.contains("cancelled"), "{s}");
    // The work stopped: CPU time no longer grows.
    let quiet_since = Instant::now();
    loop {
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_millis(200));
        if cpu_ticks(pid) <= before + 2 {
            break;
        }
        assert!(
            quiet_since.elapsed() < PATIENCE,
            "the cancelled query still runs"
        );
    }
    let s = t.step("SELECT 40 + 2 AS answer;");
    assert!(s.contains("| 42 "), "{s}");

    // Ctrl-D leaves with exit code 0, and the history is in the user's data folder.
    t.fresh();
    t.keys(&["C-d"]);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = t.exit_status() {
            break status;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "Ctrl-D did not quit:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(25));
    };
    assert_eq!(status, 0, "{}", t.screen());
    let history = std::fs::read_to_string(data.join("trawl/history.txt")).unwrap();
    assert!(history.contains("SELECT 40 + 2 AS answer;"), "{history}");
    assert!(history.contains("\\timing"), "{history}");
    assert!(history.contains("FROM cloudtrail"), "{history}");
    assert!(!home.join(".local").exists() && !dir.path().join(".history").exists());
    eprintln!("prompt test took {:.1?}", started.elapsed());
}
