//! The roster on the embedded store: publishing, idempotency, resumes and
//! the seed commands. (Redis: `tests/api/shared.rs`, against a real one.)

use roster_protocol::seed::encode_user_list;
use roster_protocol::v1::ChangeOp;

use super::local::LocalBackend;
use super::*;
use crate::store::SqliteFile;

fn roster() -> Roster {
    let store = SqliteFile::open(":memory:", 100)
        .unwrap()
        .list(&roster_protocol::ListName::default_list());
    let (backend, loaded) = LocalBackend::open(Box::new(store)).unwrap();
    Roster::new(Box::new(backend), &loaded, Arc::new(Metrics::default()))
}

fn rid(id: &str) -> Option<RequestId> {
    Some(RequestId::parse(id).unwrap())
}

#[test]
fn an_add_is_published_once_as_a_change_frame() {
    let roster = roster();
    let mut events = roster.subscribe();
    let committed = roster.add(None, Some("Ada"), None).unwrap();
    assert_eq!(committed.change.version, 1);
    let event = events.try_recv().unwrap();
    assert_eq!(event.version, 1);
    assert!(event.frame.as_str().contains(r#""name":"Ada""#));
    assert!(events.try_recv().is_err());
}

#[test]
fn a_retried_request_is_answered_from_the_record_and_stored_once() {
    let roster = roster();
    let first = roster.add(rid("r1"), None, None).unwrap();
    let again = roster.add(rid("r1"), None, None).unwrap();
    assert!(again.replayed);
    assert_eq!(again.change, first.change);
    assert_eq!(roster.users().len(), 1);
    let reused = roster
        .add(rid("r1"), Some("Someone else"), None)
        .unwrap_err();
    assert_eq!(reused.code, ErrorCode::IdempotencyKeyReused);
}

#[test]
fn invalid_input_changes_nothing() {
    let roster = roster();
    let err = roster.add(rid("r1"), Some(""), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidName);
    let err = roster.add(rid("r1"), None, Some("nope")).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidEmail);
    assert_eq!(roster.stats(), (0, 0));
    // The failed request id is still free for a valid request.
    assert!(!roster.add(rid("r1"), None, None).unwrap().replayed);
}

#[test]
fn removing_an_unknown_user_is_not_found() {
    let roster = roster();
    let err = roster.remove(None, &UserId::new("9")).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
}

#[test]
fn greeting_resumes_with_changes_only_in_the_same_history() {
    let roster = roster();
    for _ in 0..3 {
        roster.add(None, None, None).unwrap();
    }
    let epoch = roster.epoch().to_owned();
    let (greeting, _) = roster.greet(Some(1), Some(&epoch)).unwrap();
    let Greeting::Changes { version, frames } = greeting else {
        panic!("expected changes");
    };
    assert_eq!((version, frames.len()), (3, 2));
    for (since, epoch) in [
        (None, Some(epoch.as_str())),
        (Some(1), Some("other")),
        (Some(7), Some(epoch.as_str())),
        (Some(1), None),
    ] {
        let (greeting, _) = roster.greet(since, epoch).unwrap();
        assert!(
            matches!(greeting, Greeting::Snapshot { version: 3, .. }),
            "{since:?} {epoch:?}"
        );
    }
}

#[test]
fn seed_commands_add_and_remove_the_latest() {
    let roster = roster();
    roster.apply_seed(SeedCommand::AddUser).unwrap();
    roster.apply_seed(SeedCommand::AddUser).unwrap();
    let removed = roster.apply_seed(SeedCommand::RemoveUser).unwrap().unwrap();
    assert_eq!(
        (removed.change.op, removed.change.user.id.as_str()),
        (ChangeOp::Removed, "2")
    );
    assert_eq!(
        roster.seed_frame().as_str(),
        encode_user_list(&roster.users())
    );
    roster.apply_seed(SeedCommand::RemoveUser).unwrap();
    assert!(roster
        .apply_seed(SeedCommand::RemoveUser)
        .unwrap()
        .is_none());
}
