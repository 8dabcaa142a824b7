//! The operator's job store on SQLite: the watcher's requests and cursor are recorded together
//! and idempotently, a claimed job is leased (nobody else gets it), a crashed instance takes its
//! own jobs back at once on restart, and a hashed-input job waits for its input.
use zkinfer_market::service::store::{NewJob, Store};

fn job(id: &str, needs_input: bool) -> NewJob {
    NewJob { request_id: id.into(), model_id: "1".into(), inputs: "[\"5\"]".into(), deadline: i64::MAX / 2, needs_input }
}

#[test]
fn leases_cursor_and_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let s = Store::open(&url).await.unwrap();
        assert_eq!(s.cursor().await.unwrap(), None);
        assert_eq!(s.record(&[job("1", false), job("2", true)], 10).await.unwrap(), 2);
        // Seeing the same requests again (a re-scan) adds nothing.
        assert_eq!(s.record(&[job("1", false)], 12).await.unwrap(), 0);
        assert_eq!(s.cursor().await.unwrap(), Some(12));
        // Job 1 is claimed by instance a; b gets nothing while the lease runs (job 2 waits for input).
        let j = s.claim(600, "a").await.unwrap().unwrap();
        assert_eq!((j.request_id.as_str(), j.state.as_str(), j.attempts), ("1", "proving", 1));
        assert!(s.claim(600, "b").await.unwrap().is_none());
        // a crashed and restarts: its lease ends at once and it takes the job back.
        assert_eq!(s.release_leases_of("b").await.unwrap(), 0);
        assert_eq!(s.release_leases_of("a").await.unwrap(), 1);
        let j = s.claim(600, "a").await.unwrap().unwrap();
        assert_eq!((j.request_id.as_str(), j.attempts), ("1", 2));
        s.set_sending("1", "{}").await.unwrap();
        s.set_state("1", "fulfilled", Some("0xabc"), None).await.unwrap();
        let done = s.get("1").await.unwrap().unwrap();
        assert_eq!((done.state.as_str(), done.tx_hash.as_deref(), done.proof.as_deref()), ("fulfilled", Some("0xabc"), Some("{}")));
        // The hashed-input job is queued once its input arrives, and only once.
        assert!(s.set_input("2", "{\"input_data\": [[1.0]]}").await.unwrap());
        assert!(!s.set_input("2", "{}").await.unwrap());
        assert_eq!(s.claim(600, "b").await.unwrap().unwrap().request_id, "2");
        let counts = s.counts().await.unwrap();
        assert_eq!(counts, vec![("fulfilled".to_string(), 1), ("proving".to_string(), 1)]);
    });
    // The store is durable: reopened, it has everything.
    rt.block_on(async {
        let s = Store::open(&url).await.unwrap();
        assert_eq!(s.cursor().await.unwrap(), Some(12));
        assert_eq!(s.get("1").await.unwrap().unwrap().state, "fulfilled");
    });
}
