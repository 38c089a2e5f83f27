//! Attachments over HTTP: a photo uploaded to a record comes back byte for byte to those who may
//! read the record, answers 404 to the other side, is refused to parties that see no records,
//! is encrypted on disk, and every download is in the audit log.

use crate::helpers::*;
use homeward_app::AppConfig;
use homeward_app::attachments::AttachmentKey;
use homeward_app::console::Console;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const LIMIT: usize = 64 * 1024;

/// A small but real PNG (1x1, red), long enough to be searched for on disk.
pub fn png() -> Vec<u8> {
    let mut b =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde".to_vec();
    b.extend_from_slice(b"\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef");
    b.extend_from_slice("tEXt Синтетичне фото для тесту, не справжня дитина".as_bytes());
    b.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    b
}

pub fn config(dir: &Path) -> AppConfig {
    AppConfig {
        max_attachment_bytes: LIMIT,
        attachment_key: Some(AttachmentKey::generate()),
        attachment_dir: Some(dir.to_owned()),
        ..AppConfig::default()
    }
}

/// Percent-encodes a header value the way a client should.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn upload(
    s: &Session,
    path: &str,
    content_type: Option<&str>,
    filename: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = s
        .client
        .post(s.url(path))
        .header("x-csrf-token", &s.csrf)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(name) = filename {
        req = req.header("x-filename", pct(name));
    }
    req.send().await.expect("upload")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_photo_is_read_back_by_those_who_see_the_record_and_by_nobody_else() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(config(dir.path()), test_options(), async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        let origin = t.cli_party("Ombudsman", "origin").await;
        let custody = t.cli_party("Custody authority", "custody").await;
        let icrc = t.cli_party("Red Cross delegation", "humanitarian").await;
        let prosecutor = t.cli_party("Prosecutor", "observer").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        t.cli_user(&custody, "kirill", &["caseworker"]).await;
        t.cli_user(&mediator, "mira", &["caseworker"]).await;
        t.cli_user(&mediator, "audrey", &["auditor"]).await;
        t.cli_user(&icrc, "henri", &["caseworker", "logistics"])
            .await;
        t.cli_user(&prosecutor, "paula", &["auditor", "viewer"])
            .await;
        let olena = t.login("olena", PASSWORD).await;
        let record = expect(
            olena
                .post("/api/v1/records", &tracing_request("Дмитро"))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let rid = record["id"].as_str().unwrap();
        let on_record = format!("/api/v1/records/{rid}/attachments");

        let photo = png();
        let name = "Фото Дмитра 2022 (1).png";
        let res = upload(
            &olena,
            &on_record,
            Some("image/png"),
            Some(name),
            photo.clone(),
        )
        .await;
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let meta = expect(res, StatusCode::CREATED).await;
        let id = meta["id"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("/api/v1/attachments/{id}"));
        assert_eq!(meta["filename"], name, "kept as written");
        assert_eq!(meta["content_type"], "image/png");
        assert_eq!(meta["size"], photo.len());
        assert_eq!(meta["owner_kind"], "record");
        assert_eq!(meta["owner_id"], rid);
        assert_eq!(meta["party_id"], json!(origin.id));
        assert_eq!(meta["sha256"].as_str().unwrap().len(), 64);

        // The uploader and the mediator read it back, byte for byte, as a download.
        let mira = t.login("mira", PASSWORD).await;
        for who in [&olena, &mira] {
            let res = who.get(&format!("{location}/content")).await;
            assert_eq!(res.status(), StatusCode::OK);
            let h = res.headers().clone();
            assert_eq!(h["content-type"], "image/png");
            assert_eq!(h["x-content-type-options"], "nosniff");
            assert_eq!(h["cache-control"], "no-store");
            let disposition = h["content-disposition"].to_str().unwrap();
            assert!(disposition.starts_with("attachment;"), "{disposition}");
            assert!(
                disposition.contains(&format!("filename*=UTF-8''{}", pct(name))),
                "{disposition}"
            );
            assert_eq!(res.bytes().await.unwrap().as_ref(), photo.as_slice());
            assert_eq!(expect(who.get(&location).await, StatusCode::OK).await, meta);
        }
        let listed = expect(mira.get(&on_record).await, StatusCode::OK).await;
        assert_eq!(listed, json!([meta]));

        // The other side cannot tell it exists: the same answers as for ids nobody used.
        let kirill = t.login("kirill", PASSWORD).await;
        let nobody = format!("/api/v1/attachments/{}", uuid::Uuid::now_v7());
        for path in [
            location.clone(),
            format!("{location}/content"),
            on_record.clone(),
        ] {
            let theirs = kirill.get(&path).await;
            let (status, body) = (theirs.status(), theirs.bytes().await.unwrap());
            let missing = kirill.get(&nobody).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(body, missing.bytes().await.unwrap(), "{path}");
        }
        let res = upload(&kirill, &on_record, Some("image/png"), Some("x.png"), png()).await;
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;

        // Parties that see no records are refused outright.
        for who in ["henri", "paula"] {
            let s = t.login(who, PASSWORD).await;
            for path in [
                location.clone(),
                format!("{location}/content"),
                on_record.clone(),
            ] {
                expect_error(s.get(&path).await, StatusCode::FORBIDDEN, "forbidden").await;
            }
            let res = upload(&s, &on_record, Some("image/png"), Some("x.png"), png()).await;
            expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
        }

        // The same photo again (the mediator's caseworker attaching it) is a second attachment
        // of one stored blob.
        let again = expect(
            upload(&mira, &on_record, None, Some("copy.png"), photo.clone()).await,
            StatusCode::CREATED,
        )
        .await;
        assert_ne!(again["id"], meta["id"]);
        assert_eq!(again["sha256"], meta["sha256"]);
        assert_eq!(again["party_id"], json!(origin.id), "in the record's scope");
        let sha = meta["sha256"].as_str().unwrap();
        let blobs: Vec<PathBuf> = files_under(dir.path())
            .into_iter()
            .filter(|p| p.file_name().unwrap() == sha)
            .collect();
        assert_eq!(blobs.len(), 1, "stored once");

        // On disk the photo is not in the clear, nor is its name.
        for f in files_under(dir.path()) {
            let bytes = std::fs::read(&f).unwrap();
            assert!(!contains(&bytes, &photo[..24]), "{}", f.display());
            assert!(
                !contains(&bytes, "Синтетичне".as_bytes()),
                "{}",
                f.display()
            );
            assert!(!contains(&bytes, "Дмитра".as_bytes()), "{}", f.display());
        }

        // One `attachment.read` per download (the other side's 404s read nothing), and the
        // filename, which names the child, is nowhere in the log.
        let audrey = t.login("audrey", PASSWORD).await;
        let reads = expect(
            audrey
                .get(&format!(
                    "/api/v1/audit?action=attachment.read&target_id={id}"
                ))
                .await,
            StatusCode::OK,
        )
        .await;
        let reads = reads["items"].as_array().unwrap();
        assert_eq!(reads.len(), 2, "{reads:?}");
        assert_eq!(reads[0]["actor_user"], olena.body["user"]["id"]);
        assert_eq!(reads[1]["actor_user"], mira.body["user"]["id"]);
        let all = expect(audrey.get("/api/v1/audit?limit=1000").await, StatusCode::OK).await;
        let actions: Vec<&str> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for wanted in [
            "attachment.upload",
            "attachment.metadata_read",
            "attachment.list",
        ] {
            assert!(actions.contains(&wanted), "no {wanted}");
        }
        assert!(
            !all.to_string().contains("Дмитра"),
            "a filename leaked into the audit log"
        );
        expect(audrey.get("/api/v1/audit/verify").await, StatusCode::OK).await;
    })
    .await;
}

#[tokio::test]
async fn uploads_are_refused_with_clear_codes() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(config(dir.path()), test_options(), async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        t.cli_user(&origin, "vira", &["viewer"]).await;
        let s = t.login("olena", PASSWORD).await;
        let record = expect(
            s.post("/api/v1/records", &tracing_request("Анна")).await,
            StatusCode::CREATED,
        )
        .await;
        let path = format!(
            "/api/v1/records/{}/attachments",
            record["id"].as_str().unwrap()
        );

        // Too large: within the body limit (refused by the app) and beyond it (by the server).
        for size in [LIMIT + 1, LIMIT + 100 * 1024] {
            let mut big = png();
            big.resize(size, 0);
            let res = upload(&s, &path, Some("image/png"), Some("big.png"), big).await;
            let body =
                expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "attachment_too_large").await;
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(&LIMIT.to_string()),
                "{body}"
            );
        }
        let mut fits = png();
        fits.resize(LIMIT, 0);
        expect(
            upload(&s, &path, Some("image/png"), Some("fits.png"), fits).await,
            StatusCode::CREATED,
        )
        .await;

        // Programs, pages and text are not documents or photos, whatever they claim to be.
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
        for (ct, body) in [
            (Some("application/octet-stream"), exe.clone()),
            (Some("image/png"), exe),
            (Some("text/plain"), b"just some text".to_vec()),
            (
                Some("text/html"),
                b"<html><script>alert(1)</script>".to_vec(),
            ),
            (None, b"%PD".to_vec()),
        ] {
            let res = upload(&s, &path, ct, Some("file.png"), body).await;
            expect_error(
                res,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "attachment_type_not_allowed",
            )
            .await;
        }
        // A declared type that contradicts the content.
        let res = upload(&s, &path, Some("application/pdf"), Some("a.pdf"), png()).await;
        let body = expect_error(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attachment_type_mismatch",
        )
        .await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("image/png"),
            "{body}"
        );
        let res = upload(&s, &path, Some("image/png"), Some("empty.png"), Vec::new()).await;
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "attachment_empty").await;
        let res = upload(&s, &path, Some("image/png"), None, png()).await;
        let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["error"]["fields"][0]["field"], "filename", "{body}");
        let res = upload(&s, &path, Some("image/png"), Some("two\nlines.png"), png()).await;
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

        // Reading a record is not enough to attach to it.
        let vira = t.login("vira", PASSWORD).await;
        let res = upload(&vira, &path, Some("image/png"), Some("x.png"), png()).await;
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;

        // Of all these, only the file that fits was stored.
        let listed = expect(s.get(&path).await, StatusCode::OK).await;
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    })
    .await;
}

#[tokio::test]
async fn without_a_key_uploads_say_attachments_are_not_configured() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let record = expect(
            s.post("/api/v1/records", &tracing_request("Анна")).await,
            StatusCode::CREATED,
        )
        .await;
        let path = format!(
            "/api/v1/records/{}/attachments",
            record["id"].as_str().unwrap()
        );
        let res = upload(&s, &path, Some("image/png"), Some("x.png"), png()).await;
        expect_error(
            res,
            StatusCode::SERVICE_UNAVAILABLE,
            "attachments_not_configured",
        )
        .await;
        assert_eq!(expect(s.get(&path).await, StatusCode::OK).await, json!([]));
    })
    .await;
}

const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Олейник,Дмитрий,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n";

#[tokio::test]
async fn case_documents_stay_with_the_mediator() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(config(dir.path()), test_options(), async |t: &TestApp| {
        let ThreeSides { mediator, .. } = t.three_sides().await;
        t.cli_user(&mediator, "vik", &["viewer"]).await;
        let o = t.login("olena", PASSWORD).await;
        let c = t.login("ivan", PASSWORD).await;
        let m = t.login("maria", PASSWORD).await;
        let request = json!({
            "names": [{ "given": "Дмитро", "patronymic": "Андрійович", "family": "Олійник" }],
            "sex": "male",
            "birth_date": "2015-03-07",
            "birth_place": "Маріуполь",
            "enquirer_name": "Оксана Олійник",
            "enquirer_relationship": "mother",
        });
        expect(
            o.post("/api/v1/records", &request).await,
            StatusCode::CREATED,
        )
        .await;
        let res = c.import_custody(CUSTODY_CSV).await;
        expect(res, StatusCode::CREATED).await;
        let queue = expect(m.get("/api/v1/matches?limit=10").await, StatusCode::OK).await;
        let mid = queue["items"][0]["id"].as_str().unwrap().to_owned();
        let decided: Value = expect(
            m.post(&format!("/api/v1/matches/{mid}/confirm"), &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        let case_id = decided["case"]["case"]["id"].as_str().unwrap();
        let on_case = format!("/api/v1/cases/{case_id}/attachments");

        let pdf = b"%PDF-1.7\n% synthetic consent form\n%%EOF\n".to_vec();
        let meta = expect(
            upload(
                &m,
                &on_case,
                Some("application/pdf"),
                Some("Згода матері.pdf"),
                pdf.clone(),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(meta["owner_kind"], "case");
        assert_eq!(meta["party_id"], json!(mediator.id));
        let location = format!("/api/v1/attachments/{}", meta["id"].as_str().unwrap());

        // The signed form is the consent's evidence.
        t.cli_user(&mediator, "petra", &["caseworker"]).await;
        let petra = t.login("petra", PASSWORD).await;
        let consent = expect(
            petra
                .post(
                    &format!("/api/v1/cases/{case_id}/consents"),
                    &json!({
                        "giver": { "kind": "legal_guardian", "name": "Оксана Олійник", "relationship": "mother" },
                        "scope": { "kind": "return" }, "decision": "given", "method": "written",
                        "evidence": [meta["id"]], "expected_version": 1,
                    }),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(consent["case"]["consents"][0]["evidence"], json!([meta["id"]]));

        // The mediator's staff read it; only case managers attach.
        let vik = t.login("vik", PASSWORD).await;
        let got = vik.get(&format!("{location}/content")).await;
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(got.headers()["content-type"], "application/pdf");
        assert_eq!(got.bytes().await.unwrap().as_ref(), pdf.as_slice());
        assert_eq!(
            expect(vik.get(&on_case).await, StatusCode::OK).await,
            json!([meta])
        );
        let res = upload(
            &vik,
            &on_case,
            Some("application/pdf"),
            Some("x.pdf"),
            pdf.clone(),
        )
        .await;
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;

        // Neither side sees the case's documents.
        for side in [&o, &c] {
            expect_error(
                side.get(&location).await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
            expect_error(
                side.get(&format!("{location}/content")).await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
            expect_error(side.get(&on_case).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let missing = format!("/api/v1/cases/{}/attachments", uuid::Uuid::now_v7());
        expect_error(m.get(&missing).await, StatusCode::NOT_FOUND, "not_found").await;
    })
    .await;
}

#[tokio::test]
async fn an_altered_file_on_disk_is_an_error_never_garbage() {
    on_every_backend(async |t: &TestApp| {
        // A directory per backend: the blob altered for one must not be the other's.
        let dir = tempfile::tempdir().unwrap();
        let app = homeward_app::App::new(
            homeward_store::connect(t.db_url()).await.unwrap(),
            config(dir.path()),
        );
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let caller = Console::new(&app).caller("olena").await.unwrap();
        let record = app
            .create_record(
                &caller,
                &serde_json::from_value(tracing_request("Анна")).unwrap(),
            )
            .await
            .unwrap();
        let photo = png();
        let upload = homeward_app::attachments::Upload {
            filename: "a.png",
            declared_type: Some("image/png"),
            description: Some("  front  "),
            bytes: &photo,
        };
        let meta = app
            .upload_record_attachment(&caller, record.id, upload)
            .await
            .unwrap();
        assert_eq!(meta.description.as_deref(), Some("front"));
        assert_eq!(
            app.download_attachment(&caller, meta.id)
                .await
                .unwrap()
                .bytes,
            photo
        );
        let blob = files_under(dir.path())
            .into_iter()
            .find(|p| p.file_name().unwrap() == meta.sha256.as_str())
            .unwrap();
        let mut bytes = std::fs::read(&blob).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&blob, bytes).unwrap();
        let e = app.download_attachment(&caller, meta.id).await.unwrap_err();
        assert_eq!(e.code(), "attachment_unreadable", "{e}");
        std::fs::remove_file(&blob).unwrap();
        let e = app.download_attachment(&caller, meta.id).await.unwrap_err();
        assert_eq!(e.code(), "attachment_unreadable", "{e}");
        app.close().await;
    })
    .await;
}
