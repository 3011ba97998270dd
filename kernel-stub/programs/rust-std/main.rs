//! rust-std: Rust's standard library on the kernel (issue 8 item 3(d)), built static and
//! non-PIE: `thread::spawn` + `join` with `Arc<Mutex<_>>`, `thread_local!`, a named thread,
//! a thread's panic seen by `join`, `std::process::Command` of itself (`argv[0]` with
//! arguments) with its exit code and captured output (`output()` reads the child's pipes
//! with `poll`), `Command` of a missing file, and exit codes. std's start-up itself polls
//! fds 0–2, ignores SIGPIPE and sets up an alternate signal stack.

use std::cell::Cell;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

thread_local!(static COUNT: Cell<u32> = const { Cell::new(0) });

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        println!("child: args {:?}", &args[2..]);
        std::process::exit(7);
    }
    let total = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let total = Arc::clone(&total);
            thread::spawn(move || {
                for _ in 0..1000 {
                    *total.lock().unwrap() += 1;
                    COUNT.with(|c| c.set(c.get() + 1));
                }
                COUNT.with(Cell::get)
            })
        })
        .collect();
    let own: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!(
        "8 threads: total {}, each thread's own count {:?}",
        *total.lock().unwrap(),
        own
    );
    println!("main's thread-local: {}", COUNT.with(Cell::get));
    let name = thread::Builder::new()
        .name("worker".into())
        .spawn(|| thread::current().name().map(String::from))
        .unwrap()
        .join()
        .unwrap();
    println!("named thread: {name:?}");
    std::panic::set_hook(Box::new(|_| {}));
    let panicked = thread::spawn(|| panic!("boom")).join();
    drop(std::panic::take_hook());
    println!(
        "a panicking thread's join is an error: {}",
        panicked.is_err()
    );

    let out = Command::new(&args[0])
        .args(["child", "a b", "c"])
        .output()
        .unwrap();
    println!(
        "Command output: success {}, code {:?}, stdout {:?}",
        out.status.success(),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    );
    let status = Command::new(&args[0]).arg("child").status().unwrap();
    println!("Command status: code {:?}", status.code());
    let missing = Command::new("/no/such/program").status();
    println!("missing program: {:?}", missing.map_err(|e| e.kind()));
    std::process::exit(3);
}
