//! End-to-end tests: the real server on 127.0.0.1:0, a real database (SQLite always, PostgreSQL
//! when HOMEWARD_TEST_POSTGRES_URL is set), and an HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod attachments;
mod auth;
mod autonomy;
mod case_workflow;
mod credentials;
mod duplicates;
mod errors;
mod evidence;
mod exports;
mod import;
mod indicators;
mod matching;
mod openapi;
mod operations;
mod pprl;
mod read_models;
mod records;
mod scope;
mod tokens;
mod transfer_world;
mod transfers;
