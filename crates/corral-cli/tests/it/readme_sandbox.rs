//! The README's sandbox lines, played against the smoke test's server:
//! create, exec, cp both ways, stop and start with the files back, pause,
//! resume, fork, rm, ls.

use crate::harness::stdout;
use crate::readme::Smoke;

/// Plays `line` when it is a sandbox line; false when it is not one.
pub async fn play(smoke: &mut Smoke, line: &str) -> bool {
    match line {
        "corral sandbox create --ttl 2h --idle-timeout 15m" => {
            let out = smoke
                .corral(
                    &["sandbox", "create", "--ttl", "2h", "--idle-timeout", "15m"],
                    0,
                )
                .await;
            stdout(&out).trim().clone_into(&mut smoke.id);
            assert!(smoke.id.starts_with("j-"), "{}", smoke.id);
        }
        "corral exec ID -- sh -c 'echo hi > /workspace/a'" => {
            smoke
                .corral(
                    &["exec", "ID", "--", "sh", "-c", "echo hi > /workspace/a"],
                    0,
                )
                .await;
            let out = smoke
                .corral(&["exec", "ID", "--", "cat", "/workspace/a"], 0)
                .await;
            assert_eq!(stdout(&out), "hi\n");
        }
        "corral exec ID --cwd /tmp --env K=V --timeout 1m -- ls -la" => {
            smoke
                .corral(
                    &[
                        "exec",
                        "ID",
                        "--cwd",
                        "/tmp",
                        "--env",
                        "K=V",
                        "--timeout",
                        "1m",
                        "--",
                        "ls",
                        "-la",
                    ],
                    0,
                )
                .await;
        }
        // `./src` and `./out` are the test's own directories.
        "corral cp ./src ID:/workspace/src && corral cp ID:/workspace/out ./out" => {
            let local = tempfile::tempdir().expect("a directory");
            let src = local.path().join("src");
            std::fs::create_dir(&src).expect("src");
            std::fs::write(src.join("main.txt"), "source\n").expect("a file");
            let to = format!("{}:/workspace/src", smoke.id);
            smoke.corral(&["cp", &src.to_string_lossy(), &to], 0).await;
            smoke
                .corral(&["exec", "ID", "--", "sh", "-c", "mkdir -p /workspace/out && cp /workspace/src/main.txt /workspace/out/built.txt"], 0)
                .await;
            let from = format!("{}:/workspace/out", smoke.id);
            let out = local.path().join("out");
            smoke
                .corral(&["cp", &from, &out.to_string_lossy()], 0)
                .await;
            assert_eq!(
                std::fs::read_to_string(out.join("built.txt")).expect("copied back"),
                "source\n"
            );
        }
        "corral sandbox stop ID | corral sandbox start ID" => {
            let out = smoke.corral(&["sandbox", "stop", "ID"], 0).await;
            assert!(stdout(&out).ends_with(" stopped\n"), "{}", stdout(&out));
            smoke.corral(&["sandbox", "start", "ID"], 0).await;
            let out = smoke
                .corral(&["exec", "ID", "--", "cat", "/workspace/a"], 0)
                .await;
            assert_eq!(stdout(&out), "hi\n", "the files came back");
        }
        "corral sandbox pause ID | resume ID | fork ID | rm ID | ls [--json]" => {
            smoke.corral(&["sandbox", "pause", "ID"], 0).await;
            smoke.corral(&["sandbox", "resume", "ID"], 0).await;
            let forked = smoke.corral(&["sandbox", "fork", "ID"], 0).await;
            let fork = stdout(&forked).trim().to_owned();
            let out = smoke
                .corral(&["exec", &fork, "--", "cat", "/workspace/a"], 0)
                .await;
            assert_eq!(stdout(&out), "hi\n");
            smoke.corral(&["sandbox", "rm", &fork], 0).await;
            smoke.corral(&["sandbox", "rm", "ID"], 0).await;
            let listed = smoke.corral(&["sandbox", "ls", "--json"], 0).await;
            assert!(stdout(&listed).contains(&smoke.id), "{}", stdout(&listed));
        }
        _ => return false,
    }
    true
}
