//! Integration tests of the orchestrator against real Docker, real `SQLite`
//! and real HTTP on loopback. Each test runs its own server and removes its
//! containers even when it fails.

#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns fail loudly"
)]

mod api_auth;
mod bad_input;
mod bad_specs;
mod browser;
mod browser_interactive;
mod browser_job;
mod browser_list;
mod browser_review;
mod browser_sandboxes;
mod claude_mode;
mod claude_sessions;
mod cut_streams;
mod data_dir_lock;
mod egress;
mod egress_record;
mod engines;
mod event_budget;
mod faults;
mod held_output;
mod hostile;
mod hostile_disk;
mod hostile_egress;
mod hostile_git;
mod hostile_leaks;
mod hostile_llm;
mod hostile_pids;
mod hostile_projects;
mod hostile_reasons;
mod hostile_review;
mod hostile_socket;
mod interactive_end;
mod lifecycle;
mod load;
mod master_key;
mod metrics;
mod model_discovery;
mod pool;
mod pool_socket;
mod project_copy;
mod project_permissions;
mod queue;
mod readopted_execs;
mod reaper;
mod refused_store;
mod review;
mod review_record;
mod sandbox;
mod sandbox_completion;
mod sandbox_files;
mod sandbox_fixture;
mod sandbox_model;
mod sandbox_restart_failure;
mod sandbox_snapshots;
mod sandbox_stop_cut;
mod sandbox_worker;
mod sandbox_worker_numbers;
mod sandboxes;
mod security_md;
mod verify;
mod web_ui;
mod webdriver;
mod worker_endpoint;
mod worker_faults;
mod worker_mode;
mod worker_prompt_poll;
mod worker_socket;
