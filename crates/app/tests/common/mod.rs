//! The world every app integration test starts from: a real store (SQLite, and PostgreSQL too
//! when HOMEWARD_TEST_POSTGRES_URL is set) holding a mediator, an origin and a custody party.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use homeward_app::admin::NewUserInput;
use homeward_app::console::Console;
use homeward_app::{App, AppConfig, Caller};
use homeward_domain::{Party, PartyId};
use homeward_store::testing::TestDatabase;

pub const PW: &str = "a long enough password";

pub struct World {
    pub app: App,
    pub db: TestDatabase,
    pub mediator: Party,
    pub origin: Party,
    pub custody: Party,
}

impl World {
    pub async fn new(db: TestDatabase, config: AppConfig) -> Self {
        let app = App::new(db.open().await.unwrap(), config);
        let mk = async |name: &str, kind: &str| {
            app.create_party(Console::actor(), name, kind)
                .await
                .unwrap()
        };
        let mediator = mk("Mediator", "mediator").await;
        let origin = mk("Origin", "origin").await;
        let custody = mk("Custody", "custody").await;
        Self {
            app,
            db,
            mediator,
            origin,
            custody,
        }
    }

    /// A user of `party` with `roles`, signed in as the command line would.
    pub async fn user(&self, party: PartyId, name: &str, roles: &[&str]) -> Caller {
        let input = NewUserInput {
            party_id: party,
            username: name.into(),
            display_name: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            password: PW.into(),
            language: None,
        };
        self.app.create_user(Console::actor(), input).await.unwrap();
        Console::new(&self.app).caller(name).await.unwrap()
    }

    pub async fn finish(self) {
        self.app.close().await;
        self.db.cleanup().await.unwrap();
    }
}

/// One world per available backend.
pub async fn worlds(config: AppConfig) -> Vec<World> {
    let mut out = vec![World::new(TestDatabase::sqlite().await.unwrap(), config.clone()).await];
    if let Some(pg) = TestDatabase::postgres().await.unwrap() {
        out.push(World::new(pg, config).await);
    }
    out
}
