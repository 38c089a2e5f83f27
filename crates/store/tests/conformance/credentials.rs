//! Credentials that must stop working: API tokens after a password change or reset, and a
//! one-time code once it has been accepted.

use super::*;

pub async fn set_password_revokes_tokens_unless_kept(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let u = user(s, p.id, "anna").await;
    let other = user(s, p.id, "boris").await;
    let t = now();
    let mine = token(&u, "sync", None);
    let theirs = token(&other, "sync", None);
    for (k, hash) in [(&mine, "tok-anna"), (&theirs, "tok-boris")] {
        s.create_token(k, hash, draft(AuditAction::TokenCreate))
            .await
            .unwrap();
    }
    s.set_password(
        u.id,
        "$argon2id$kept",
        true,
        draft(AuditAction::UserPasswordReset),
    )
    .await
    .unwrap();
    assert!(
        s.token_by_hash("tok-anna", t).await.unwrap().is_some(),
        "kept when asked"
    );
    s.set_password(
        u.id,
        "$argon2id$new",
        false,
        draft(AuditAction::UserPasswordReset),
    )
    .await
    .unwrap();
    assert!(s.token_by_hash("tok-anna", t).await.unwrap().is_none());
    assert!(
        s.get_token(mine.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some(),
        "revoked, not deleted: it stays listed"
    );
    assert!(
        s.token_by_hash("tok-boris", t).await.unwrap().is_some(),
        "other users keep their tokens"
    );
}

pub async fn a_totp_step_is_accepted_once(cx: Ctx) {
    let s = &*cx.store;
    let p = party(s, PartyKind::Origin, "Origin").await;
    let u = user(s, p.id, "anna").await;
    let other = user(s, p.id, "boris").await;
    let step = 59_000_000_i64;
    assert!(s.accept_totp_step(u.id, step).await.unwrap());
    assert!(
        !s.accept_totp_step(u.id, step).await.unwrap(),
        "the same step twice"
    );
    assert!(
        !s.accept_totp_step(u.id, step - 1).await.unwrap(),
        "an earlier step"
    );
    assert!(
        s.accept_totp_step(other.id, step).await.unwrap(),
        "per user"
    );
    assert!(s.accept_totp_step(u.id, step + 1).await.unwrap());
    // Two servers checking the same code at once: one accepts it.
    let (a, b) = tokio::join!(
        s.accept_totp_step(u.id, step + 2),
        s.accept_totp_step(u.id, step + 2)
    );
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(), 1);
    assert!(!s.accept_totp_step(UserId::new(), step).await.unwrap());
}
