//! Attachments: documents and photos on child records and cases. Whoever can read the owner can
//! read its attachments (each read audited); only checked kinds of file are taken, up to a size
//! limit, and their content is encrypted on disk under the deployment's key.
//!
//! Order of writes: the blob first (content-addressed, so writing it again is harmless), then the
//! metadata with its audit entry in one transaction. A failure in between leaves at worst an
//! unreferenced encrypted blob, never a row that names missing content.

use crate::{App, AppError, AppResult, Caller};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SubsecRound, Utc};
use homeward_domain::{
    AttachmentId, AuditAction, CaseId, PartyId, Permission, RecordId, Scope, UserId,
};
use homeward_store::blobs::BlobError;
use homeward_store::{Attachment, AttachmentOwner, AttachmentScope};
use serde::Serialize;
use zeroize::Zeroizing;

/// The default upload limit: 20 MiB, enough for a phone photo or a scanned multi-page document.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: usize = 20 << 20;
const MAX_FILENAME_CHARS: usize = 255;
const MAX_DESCRIPTION_CHARS: usize = 2000;

/// The key attachments are encrypted with: 32 bytes from the deployment's configuration. Its
/// `Debug` never shows it, and it is wiped from memory when dropped.
#[derive(Clone)]
pub struct AttachmentKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttachmentKey(redacted)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an attachment key is 32 bytes written as 64 hexadecimal digits or as base64 (44 characters)"
)]
pub struct BadAttachmentKey;

impl AttachmentKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key, for deployments that are made and thrown away in one go (the demo).
    /// A real deployment must keep its key: whatever is encrypted under a lost key is lost.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// Reads a key written as 64 hex digits or as base64 of 32 bytes (surrounding whitespace,
    /// such as a key file's final newline, is ignored).
    pub fn parse(text: &str) -> Result<Self, BadAttachmentKey> {
        let text = text.trim();
        let decoded = Zeroizing::new(if text.len() == 64 {
            hex::decode(text).map_err(|_| BadAttachmentKey)?
        } else {
            STANDARD.decode(text).map_err(|_| BadAttachmentKey)?
        });
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| BadAttachmentKey)?;
        Ok(Self::from_bytes(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The kinds of file Homeward takes: documents and photos, recognised by their first bytes.
pub const ALLOWED_KINDS: &str = "PDF, JPEG, PNG, WebP, TIFF or HEIC/HEIF";

/// The content type of `bytes` if it is a kind of file Homeward takes. Decided from the content
/// alone: a client's claim is only compared against it.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some("image/tiff")
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        // ISO base media: the major brand says which. Only the HEIF still-image brands are taken
        // (not video, nor AVIF, which browsers and viewers handle differently).
        match &bytes[8..12] {
            b"heic" | b"heix" => Some("image/heic"),
            b"mif1" | b"msf1" | b"heim" | b"heis" | b"hevc" | b"hevx" => Some("image/heif"),
            _ => None,
        }
    } else {
        None
    }
}

/// Whether a client's declared type agrees with the sniffed one. No declaration, or a generic
/// one, agrees with anything.
fn declared_agrees(declared: Option<&str>, sniffed: &str) -> bool {
    let Some(d) = declared else { return true };
    let d = d
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let canonical = match d.as_str() {
        "" | "application/octet-stream" => return true,
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "image/x-png" => "image/png",
        "application/x-pdf" => "application/pdf",
        "image/heic" | "image/heif" | "image/heic-sequence" | "image/heif-sequence" => {
            return sniffed == "image/heic" || sniffed == "image/heif";
        }
        other => other,
    };
    canonical == sniffed
}

/// A file as the uploader sends it.
#[derive(Clone, Copy, Debug)]
pub struct Upload<'a> {
    /// As the uploader's client named it; kept as written.
    pub filename: &'a str,
    /// The type the client declared, if any: it must agree with the content.
    pub declared_type: Option<&'a str>,
    pub description: Option<&'a str>,
    pub bytes: &'a [u8],
}

/// An attachment's metadata, as callers see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentView {
    pub id: AttachmentId,
    /// `record` or `case`.
    pub owner_kind: &'static str,
    /// The record's or the case's id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub owner_id: uuid::Uuid,
    /// The party in whose scope it is (the record's party; the mediator for a case).
    pub party_id: PartyId,
    /// As the uploader's client named it.
    pub filename: String,
    /// Recognised from the content.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the content, hex: lets a recipient check the file they got.
    pub sha256: String,
    pub uploaded_by: UserId,
    pub uploaded_at: DateTime<Utc>,
    pub description: Option<String>,
}

impl From<Attachment> for AttachmentView {
    fn from(a: Attachment) -> Self {
        Self {
            id: a.id,
            owner_kind: a.owner.kind(),
            owner_id: a.owner.id(),
            party_id: a.party_id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by,
            uploaded_at: a.uploaded_at,
            description: a.description,
        }
    }
}

/// A downloaded attachment: its metadata and its content.
#[derive(Clone, Debug)]
pub struct Download {
    pub attachment: AttachmentView,
    pub bytes: Vec<u8>,
}

/// The filename, kept as written but refused when it could not be shown or sent back safely.
fn check_filename(name: &str) -> AppResult<&str> {
    if name.trim().is_empty() {
        return Err(AppError::invalid(
            "filename",
            "required",
            "name the file (the X-Filename header over HTTP)",
        ));
    }
    if name.chars().count() > MAX_FILENAME_CHARS {
        return Err(AppError::invalid(
            "filename",
            "too_long",
            format!("at most {MAX_FILENAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "filename",
            "invalid_characters",
            "a filename cannot hold control characters such as line breaks",
        ));
    }
    // `\u{202e}fdp.exe` would show as `exe.pdf` wherever the name is listed.
    homeward_domain::bidi::refuse_bidi_controls("filename", name).map_err(AppError::from)?;
    Ok(name)
}

fn check_description(d: Option<&str>) -> AppResult<Option<String>> {
    let Some(d) = d.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::invalid(
            "description",
            "too_long",
            format!("at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(Some(d.to_owned()))
}

/// The content type of an acceptable upload, or why it is not acceptable.
pub fn check_content(
    bytes: &[u8],
    declared: Option<&str>,
    max_bytes: usize,
) -> AppResult<&'static str> {
    if bytes.is_empty() {
        return Err(AppError::AttachmentEmpty);
    }
    if bytes.len() > max_bytes {
        return Err(AppError::AttachmentTooLarge { limit: max_bytes });
    }
    let sniffed = sniff(bytes).ok_or(AppError::AttachmentTypeNotAllowed)?;
    if !declared_agrees(declared, sniffed) {
        return Err(AppError::AttachmentTypeMismatch {
            declared: declared.unwrap_or("").to_owned(),
            detected: sniffed,
        });
    }
    Ok(sniffed)
}

impl From<BlobError> for AppError {
    fn from(e: BlobError) -> Self {
        Self::AttachmentUnreadable(e)
    }
}

impl App {
    /// What attachments the caller can see: those of the records it can read, and those of
    /// cases when it reads cases.
    pub(crate) fn attachment_scope(&self, caller: &Caller) -> AttachmentScope {
        AttachmentScope {
            records: if caller.may(Permission::RecordRead) {
                caller.scope()
            } else {
                Scope::Nothing
            },
            cases: caller.may(Permission::CaseRead) && caller.scope() == Scope::AllSubmitted,
        }
    }

    fn blobs(&self) -> AppResult<&homeward_store::blobs::BlobStore> {
        self.blobs
            .as_ref()
            .ok_or(AppError::AttachmentsNotConfigured)
    }

    /// Attaches a file to a child record. Its party's caseworkers (within their own records) and
    /// the mediator's caseworkers may; the record must be readable by the caller and not deleted.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn upload_record_attachment(
        &self,
        caller: &Caller,
        record: RecordId,
        upload: Upload<'_>,
    ) -> AppResult<AttachmentView> {
        caller.require(Permission::AttachmentUpload, &self.config)?;
        caller.require(Permission::RecordRead, &self.config)?;
        let (content_type, description) = self.check_upload(&upload)?;
        let audit = caller
            .audit(AuditAction::RecordRead)
            .target("record", record)
            .details(serde_json::json!({ "purpose": "attachment_upload" }));
        let owner = self
            .store
            .get_record(caller.scope(), record, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        if owner.deleted_at.is_some() {
            return Err(AppError::invalid(
                "record",
                "record_deleted",
                "the record is deleted; nothing can be attached to it",
            ));
        }
        self.store_attachment(
            caller,
            AttachmentOwner::Record(record),
            owner.party_id,
            upload,
            content_type,
            description,
        )
        .await
    }

    /// Attaches a file to a case: the mediator's case managers.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn upload_case_attachment(
        &self,
        caller: &Caller,
        case: CaseId,
        upload: Upload<'_>,
    ) -> AppResult<AttachmentView> {
        caller.require(Permission::CaseManage, &self.config)?;
        let (content_type, description) = self.check_upload(&upload)?;
        let audit = caller
            .audit(AuditAction::CaseRead)
            .target("case", case)
            .details(serde_json::json!({ "purpose": "attachment_upload" }));
        self.store
            .get_case(case, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        self.store_attachment(
            caller,
            AttachmentOwner::Case(case),
            caller.party().id,
            upload,
            content_type,
            description,
        )
        .await
    }

    /// Everything about an upload that can be refused before anything is written.
    fn check_upload(&self, upload: &Upload<'_>) -> AppResult<(&'static str, Option<String>)> {
        // Configuration first: a deployment without a key refuses every upload the same way.
        self.blobs()?;
        let content_type = check_content(
            upload.bytes,
            upload.declared_type,
            self.config.max_attachment_bytes,
        )?;
        check_filename(upload.filename)?;
        let description = check_description(upload.description)?;
        Ok((content_type, description))
    }

    async fn store_attachment(
        &self,
        caller: &Caller,
        owner: AttachmentOwner,
        party: PartyId,
        upload: Upload<'_>,
        content_type: &'static str,
        description: Option<String>,
    ) -> AppResult<AttachmentView> {
        let blob = self.blobs()?.put(upload.bytes.to_vec()).await?;
        let attachment = Attachment {
            id: AttachmentId::new(),
            sha256: blob.sha256,
            owner,
            party_id: party,
            filename: upload.filename.to_owned(),
            content_type: content_type.to_owned(),
            size: i64::try_from(upload.bytes.len()).map_err(|_| AppError::AttachmentTooLarge {
                limit: self.config.max_attachment_bytes,
            })?,
            uploaded_by: caller.user().id,
            // Databases keep microseconds: answer with what a later read returns.
            uploaded_at: self.now().trunc_subsecs(6),
            description,
            deleted_at: None,
        };
        // The filename and description stay out of the audit log: they often name the child.
        let audit = caller
            .audit(AuditAction::AttachmentUpload)
            .target("attachment", attachment.id)
            .details(serde_json::json!({
                "owner_kind": owner.kind(),
                "owner_id": owner.id().to_string(),
                "sha256": attachment.sha256,
                "content_type": content_type,
                "size": attachment.size,
            }));
        self.store
            .insert_attachment(self.attachment_scope(caller), &attachment, audit)
            .await?;
        Ok(attachment.into())
    }

    /// The attachments of a record the caller can read.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_record_attachments(
        &self,
        caller: &Caller,
        record: RecordId,
    ) -> AppResult<Vec<AttachmentView>> {
        caller.require(Permission::RecordRead, &self.config)?;
        self.list_attachments(caller, AttachmentOwner::Record(record))
            .await
    }

    /// The attachments of a case (the mediator's case readers).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_case_attachments(
        &self,
        caller: &Caller,
        case: CaseId,
    ) -> AppResult<Vec<AttachmentView>> {
        caller.require(Permission::CaseRead, &self.config)?;
        self.list_attachments(caller, AttachmentOwner::Case(case))
            .await
    }

    async fn list_attachments(
        &self,
        caller: &Caller,
        owner: AttachmentOwner,
    ) -> AppResult<Vec<AttachmentView>> {
        let audit = vec![
            caller
                .audit(AuditAction::AttachmentList)
                .target(owner.kind(), owner.id()),
        ];
        let scope = self.attachment_scope(caller);
        let items = self
            .store
            .list_attachments_audited(scope, owner, caller.for_store(audit.clone()))
            .await?
            .ok_or(AppError::NotFound)?;
        caller.viewed_ids(audit, "attachment_ids", || {
            items.iter().map(|a| a.id.to_string()).collect()
        });
        Ok(items.into_iter().map(AttachmentView::from).collect())
    }

    /// Refuses callers who can read neither records nor cases outright; for the others, an
    /// attachment they cannot see answers like a missing one.
    fn require_attachment_reader(&self, caller: &Caller) -> AppResult<()> {
        if caller.may(Permission::CaseRead) {
            return Ok(());
        }
        caller.require(Permission::RecordRead, &self.config)
    }

    /// One attachment's metadata.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_attachment(
        &self,
        caller: &Caller,
        id: AttachmentId,
    ) -> AppResult<AttachmentView> {
        self.require_attachment_reader(caller)?;
        let audit = caller
            .audit(AuditAction::AttachmentMetadataRead)
            .target("attachment", id);
        self.store
            .get_attachment(self.attachment_scope(caller), id, audit)
            .await?
            .map(AttachmentView::from)
            .ok_or(AppError::NotFound)
    }

    /// One attachment's content with its metadata. Every download is audited (in the same
    /// transaction as the metadata read that authorises it), before the content leaves.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn download_attachment(
        &self,
        caller: &Caller,
        id: AttachmentId,
    ) -> AppResult<Download> {
        self.require_attachment_reader(caller)?;
        let blobs = self.blobs()?;
        let audit = caller
            .audit(AuditAction::AttachmentRead)
            .target("attachment", id);
        let attachment = self
            .store
            .get_attachment(self.attachment_scope(caller), id, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        let bytes = blobs.get(&attachment.sha256).await?;
        Ok(Download {
            attachment: attachment.into(),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn files_are_recognised_by_their_first_bytes() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"%PDF-1.7\n", Some("application/pdf")),
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], Some("image/jpeg")),
            (PNG, Some("image/png")),
            (b"RIFF\x10\0\0\0WEBPVP8 ", Some("image/webp")),
            (b"II*\0\x08\0\0\0", Some("image/tiff")),
            (b"MM\0*\0\0\0\x08", Some("image/tiff")),
            (b"\0\0\0\x18ftypheic\0\0\0\0", Some("image/heic")),
            (b"\0\0\0\x18ftypmif1\0\0\0\0", Some("image/heif")),
            (b"\0\0\0\x18ftypisom\0\0\0\0", None),
            (b"\0\0\0\x18ftypavif\0\0\0\0", None),
            (b"MZ\x90\0\x03\0\0\0", None),
            (b"#!/bin/sh\nrm -rf /\n", None),
            (b"<html><script>", None),
            (b"RIFF\x10\0\0\0WAVEfmt ", None),
            (b"%PD", None),
            (b"", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), *want, "{bytes:?}");
        }
    }

    #[test]
    fn declared_types_must_agree_with_the_content() {
        assert!(declared_agrees(None, "image/png"));
        assert!(declared_agrees(
            Some("application/octet-stream"),
            "image/png"
        ));
        assert!(declared_agrees(
            Some("Image/PNG; charset=binary"),
            "image/png"
        ));
        assert!(declared_agrees(Some("image/jpg"), "image/jpeg"));
        assert!(declared_agrees(Some("image/heif"), "image/heic"));
        assert!(!declared_agrees(Some("application/pdf"), "image/png"));
        assert!(!declared_agrees(Some("text/html"), "image/png"));
        assert!(!declared_agrees(Some("image/heic"), "image/png"));
    }

    #[test]
    fn content_is_checked_for_emptiness_size_kind_and_claim() {
        assert_eq!(
            check_content(PNG, Some("image/png"), 100).unwrap(),
            "image/png"
        );
        assert!(matches!(
            check_content(b"", None, 100),
            Err(AppError::AttachmentEmpty)
        ));
        assert!(matches!(
            check_content(PNG, None, PNG.len() - 1),
            Err(AppError::AttachmentTooLarge { limit }) if limit == PNG.len() - 1
        ));
        assert!(check_content(PNG, None, PNG.len()).is_ok());
        let e = check_content(b"MZ\x90\0", None, 100).unwrap_err();
        assert_eq!(e.code(), "attachment_type_not_allowed");
        let e = check_content(PNG, Some("application/pdf"), 100).unwrap_err();
        assert_eq!(e.code(), "attachment_type_mismatch");
    }

    #[test]
    fn filenames_are_kept_as_written_unless_unsafe() {
        assert_eq!(
            check_filename("Фото Дмитра, 2022 (1).JPG").unwrap(),
            "Фото Дмитра, 2022 (1).JPG"
        );
        assert_eq!(check_filename(" a.pdf").unwrap(), " a.pdf");
        for bad in ["", "   ", "a\r\nSet-Cookie: x.pdf", "tab\there.png"] {
            assert!(check_filename(bad).is_err(), "{bad:?}");
        }
        // Shown as `exe.pdf`, it is a program.
        let e = check_filename("\u{202e}fdp.exe").unwrap_err();
        assert_eq!(e.code(), "validation_failed");
        assert!(format!("{e:?}").contains("bidi_control"), "{e:?}");
        assert!(check_filename(&"я".repeat(255)).is_ok());
        assert!(check_filename(&"я".repeat(256)).is_err());
    }

    #[test]
    fn keys_are_read_from_hex_or_base64_and_never_printed() {
        let hex_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let k = AttachmentKey::parse(&format!("{hex_key}\n")).unwrap();
        assert_eq!(hex::encode(k.bytes()), hex_key);
        let b64 = STANDARD.encode(k.bytes());
        assert_eq!(AttachmentKey::parse(&b64).unwrap().bytes(), k.bytes());
        assert_eq!(format!("{k:?}"), "AttachmentKey(redacted)");
        for bad in [
            "",
            "00112233",
            &hex_key[..62],
            &format!("{hex_key}00"),
            &"zz".repeat(32),
            &STANDARD.encode([1u8; 31]),
        ] {
            assert_eq!(
                AttachmentKey::parse(bad).unwrap_err(),
                BadAttachmentKey,
                "{bad:?}"
            );
        }
        assert_ne!(
            AttachmentKey::generate().bytes(),
            AttachmentKey::generate().bytes()
        );
    }
}
