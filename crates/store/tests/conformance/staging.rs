//! Import staging: an upload is reached only by its session's hash and token until it expires,
//! one claim at a time takes it for committing, a failed commit hands it back, a done one keeps
//! only its outcome, and the limits (per session, all bytes) hold.

use super::*;
use homeward_store::{NewStagedUpload, StagedState, StagingLimits};

const LIMITS: StagingLimits = StagingLimits {
    per_session: 2,
    total_bytes: 100,
};

fn upload(token: &str, session: &str, bytes: usize, at: DateTime<Utc>) -> NewStagedUpload {
    NewStagedUpload {
        token: token.to_owned(),
        session_hash: session.to_owned(),
        filename: format!("{token}.csv"),
        preset: "[]".to_owned(),
        content: vec![b'x'; bytes],
        created_at: at,
        expires_at: at + Duration::minutes(30),
    }
}

pub async fn staged_uploads_belong_to_their_session_until_they_expire(cx: Ctx) {
    let s = &*cx.store;
    let t0 = Utc::now().trunc_subsecs(6);
    assert!(
        s.stage_upload(&upload("a", "s1", 10, t0), None, LIMITS)
            .await
            .unwrap()
    );
    let got = s
        .staged_upload("s1", "a", t0)
        .await
        .unwrap()
        .expect("staged");
    assert_eq!(got.state, StagedState::Ready);
    assert_eq!(got.content.as_deref(), Some(&[b'x'; 10][..]));
    assert_eq!(got.filename, "a.csv");
    assert!(
        s.staged_upload("s2", "a", t0).await.unwrap().is_none(),
        "another session"
    );
    assert!(
        s.staged_upload("s1", "b", t0).await.unwrap().is_none(),
        "another token"
    );
    let later = t0 + Duration::minutes(31);
    assert!(
        s.staged_upload("s1", "a", later).await.unwrap().is_none(),
        "expired"
    );
    assert_eq!(s.purge_staged_uploads(later).await.unwrap(), 1);
}

pub async fn a_staged_upload_is_committed_once(cx: Ctx) {
    let s = &*cx.store;
    let t0 = Utc::now().trunc_subsecs(6);
    let hold = t0 + Duration::hours(2);
    assert!(
        s.stage_upload(&upload("a", "s1", 10, t0), None, LIMITS)
            .await
            .unwrap()
    );
    assert!(
        s.claim_staged_upload("s2", "a", t0, hold)
            .await
            .unwrap()
            .is_none()
    );
    let first = s
        .claim_staged_upload("s1", "a", t0, hold)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first.state,
        StagedState::Ready,
        "the first claim gets the file"
    );
    let second = s
        .claim_staged_upload("s1", "a", t0, hold)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        second.state,
        StagedState::Committing,
        "a second claim does not"
    );
    // A failed import hands it back, ready with its file.
    s.finish_staged_upload("a", None, t0 + Duration::minutes(30))
        .await
        .unwrap();
    let again = s
        .claim_staged_upload("s1", "a", t0, hold)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.state, StagedState::Ready);
    s.finish_staged_upload("a", Some("{\"n\":1}"), t0 + Duration::minutes(30))
        .await
        .unwrap();
    let done = s.staged_upload("s1", "a", t0).await.unwrap().unwrap();
    assert_eq!(done.state, StagedState::Done);
    assert_eq!(done.content, None, "the file is dropped once imported");
    assert_eq!(done.outcome.as_deref(), Some("{\"n\":1}"));
    s.set_staged_outcome("a", "{\"n\":2}").await.unwrap();
    let claimed = s
        .claim_staged_upload("s1", "a", t0, hold)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.state, StagedState::Done);
    assert_eq!(claimed.outcome.as_deref(), Some("{\"n\":2}"));
}

pub async fn concurrent_claims_of_one_upload_have_one_winner(cx: Ctx) {
    let store = Arc::clone(&cx.store);
    let t0 = Utc::now().trunc_subsecs(6);
    assert!(
        store
            .stage_upload(&upload("a", "s1", 10, t0), None, LIMITS)
            .await
            .unwrap()
    );
    let claims = (0..8).map(|_| {
        let s = Arc::clone(&store);
        tokio::spawn(async move {
            s.claim_staged_upload("s1", "a", t0, t0 + Duration::hours(2))
                .await
                .unwrap()
                .unwrap()
                .state
        })
    });
    let mut ready = 0;
    for c in claims {
        if c.await.unwrap() == StagedState::Ready {
            ready += 1;
        }
    }
    assert_eq!(ready, 1);
}

pub async fn staging_keeps_within_its_limits(cx: Ctx) {
    let s = &*cx.store;
    let t0 = Utc::now().trunc_subsecs(6);
    let at = |m| t0 + Duration::seconds(m);
    assert!(
        s.stage_upload(&upload("a", "s1", 10, at(0)), None, LIMITS)
            .await
            .unwrap()
    );
    assert!(
        s.stage_upload(&upload("b", "s1", 10, at(1)), None, LIMITS)
            .await
            .unwrap()
    );
    // A third upload of the session pushes out its oldest.
    assert!(
        s.stage_upload(&upload("c", "s1", 10, at(2)), None, LIMITS)
            .await
            .unwrap()
    );
    assert!(s.staged_upload("s1", "a", at(2)).await.unwrap().is_none());
    assert!(s.staged_upload("s1", "b", at(2)).await.unwrap().is_some());
    // A corrected file replaces the one it corrects.
    assert!(
        s.stage_upload(&upload("d", "s1", 10, at(3)), Some("c"), LIMITS)
            .await
            .unwrap()
    );
    assert!(s.staged_upload("s1", "c", at(3)).await.unwrap().is_none());
    assert!(s.staged_upload("s1", "b", at(3)).await.unwrap().is_some());
    // Another session may not replace this one's.
    assert!(
        s.stage_upload(&upload("e", "s2", 10, at(4)), Some("d"), LIMITS)
            .await
            .unwrap()
    );
    assert!(s.staged_upload("s1", "d", at(4)).await.unwrap().is_some());
    // All together: 30 bytes held; 71 more is over the 100.
    assert!(
        !s.stage_upload(&upload("f", "s3", 71, at(5)), None, LIMITS)
            .await
            .unwrap()
    );
    assert!(s.staged_upload("s3", "f", at(5)).await.unwrap().is_none());
    assert!(
        s.stage_upload(&upload("g", "s3", 70, at(6)), None, LIMITS)
            .await
            .unwrap()
    );
}
