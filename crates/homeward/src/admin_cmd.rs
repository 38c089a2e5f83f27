//! `homeward admin`: the server's own command line, trusted because it holds the database. The
//! first administrator is made here; there are no default passwords.

use crate::BadInput;
use homeward_app::App;
use homeward_app::admin::NewUserInput;
use homeward_app::console::Console;
use homeward_domain::TokenId;
use std::io::{BufRead, IsTerminal};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create a party (kinds: mediator, origin, custody, humanitarian, observer).
    CreateParty {
        #[arg(long)]
        name: String,
        #[arg(long)]
        kind: String,
    },
    /// List parties.
    ListParties,
    /// Create a user in a party. The password is asked for (or read from stdin with --password-stdin).
    CreateUser {
        /// Party id or exact name.
        #[arg(long)]
        party: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Role (repeatable): admin, caseworker, reviewer, logistics, viewer, auditor.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users, of one party or of all.
    ListUsers {
        /// Party id or exact name.
        #[arg(long)]
        party: Option<String>,
    },
    /// Set a new password for a user and end their sessions.
    ResetPassword {
        /// User id or username.
        #[arg(long)]
        user: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user's TOTP second factor (lost device); they can enrol a new one after signing in.
    ResetTotp {
        /// User id or username.
        #[arg(long)]
        user: String,
    },
    /// Revoke an API token by its id.
    RevokeToken {
        #[arg(long)]
        id: String,
    },
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("New password: ")?;
    let second = rpassword::prompt_password("Repeat it: ")?;
    if first != second {
        return Err(BadInput("the two passwords differ".to_owned()).into());
    }
    Ok(first)
}

pub async fn run(app: &App, cmd: AdminCommand) -> anyhow::Result<()> {
    let actor = Console::actor();
    match cmd {
        AdminCommand::CreateParty { name, kind } => {
            let p = app.create_party(actor, &name, &kind).await?;
            println!("created party {} ({}) id {}", p.name.as_str(), p.kind, p.id);
        }
        AdminCommand::ListParties => {
            for p in app.list_parties_cli().await? {
                println!("{}\t{}\t{}", p.id, p.kind, p.name.as_str());
            }
        }
        AdminCommand::CreateUser {
            party,
            username,
            display_name,
            roles,
            password_stdin,
        } => {
            let party = app
                .find_party(&party)
                .await
                .map_err(|_| BadInput(format!("no party {party:?}")))?;
            let password = read_password(password_stdin)?;
            let input = NewUserInput {
                party_id: party.id,
                username,
                display_name,
                roles,
                password,
                language: None,
            };
            let u = app.create_user(actor, input).await?;
            let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            println!(
                "created user {} in {} with roles {} id {}",
                u.username,
                party.name.as_str(),
                roles.join(","),
                u.id
            );
        }
        AdminCommand::ListUsers { party } => {
            let party = match party {
                Some(p) => Some(
                    app.find_party(&p)
                        .await
                        .map_err(|_| BadInput(format!("no party {p:?}")))?
                        .id,
                ),
                None => None,
            };
            for u in app.list_users(actor, party).await? {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                let flags = if u.disabled { "\tdisabled" } else { "" };
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.id,
                    u.party_id,
                    u.username,
                    roles.join(","),
                    flags
                );
            }
        }
        AdminCommand::ResetPassword {
            user,
            password_stdin,
        } => {
            let u = Console::new(app)
                .find_user(&user)
                .await
                .map_err(|_| BadInput(format!("no user {user:?}")))?;
            let password = read_password(password_stdin)?;
            app.reset_password(actor, u.id, &password).await?;
            println!("password of {} reset; their sessions are ended", u.username);
        }
        AdminCommand::ResetTotp { user } => {
            let u = Console::new(app)
                .find_user(&user)
                .await
                .map_err(|_| BadInput(format!("no user {user:?}")))?;
            app.reset_totp(actor, u.id).await?;
            println!("second factor of {} removed", u.username);
        }
        AdminCommand::RevokeToken { id } => {
            let id: TokenId = id
                .parse()
                .map_err(|_| BadInput(format!("{id:?} is not a token id")))?;
            app.revoke_token(actor, id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
