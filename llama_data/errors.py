"""One exception per kind of bad input, each naming the file and, where known, the position."""

from __future__ import annotations


class LlamaDataError(Exception):
    """Base of every error the CLI reports as one line and a non-zero exit."""


class InputError(LlamaDataError):
    """A raw input that cannot be read; ``reason`` is the short name counted in the manifest."""

    reason = "unreadable"

    def __init__(self, path: str, message: str, position: str | None = None):
        self.path = path
        self.position = position
        self.message = message
        where = f"{path}: {position}" if position else path
        super().__init__(f"{where}: {message}")


class TruncatedInput(InputError):
    reason = "truncated_or_corrupt_compression"


class MalformedXML(InputError):
    reason = "malformed_xml"


class InvalidEncoding(InputError):
    reason = "invalid_encoding"


class UnsafeXML(InputError):
    """A DTD or entity declaration: dumps never carry one, and expanding them is an attack."""

    reason = "unsafe_xml"


class LanguageNotAllowed(InputError):
    reason = "language_not_allowed"


class UnknownLanguage(InputError):
    reason = "unknown_language"


class MalformedRecord(InputError):
    """One record inside an otherwise readable file; the rest of the file is still read."""

    reason = "malformed_record"


class ProcessingError(InputError):
    """A record that a processing step failed on (a parser limit, a bug); it is skipped."""

    reason = "processing_error"


class RemoteReadError(InputError):
    """A remote file that cannot be read (on): not found, refused, or its connection failed again
    after every retry. ``position`` is the byte offset reached, so nothing is silently lost."""

    reason = "remote_read_failed"


class ChecksumMismatch(LlamaDataError):
    """A model file whose sha256 is not the published (or first-use pinned) one: a download that
    is deleted, never installed, or a file already in place that is left alone."""

    def __init__(self, path: str, expected: str, got: str,
                 action: str = "the download was deleted"):
        self.path, self.expected, self.got = path, expected, got
        super().__init__(f"{path}: sha256 mismatch: expected {expected}, got {got} ({action})")


class ReleaseError(LlamaDataError):
    """A release folder or manifest that is missing or not what llama-data wrote."""


class NoInputFiles(LlamaDataError):
    """An --input pattern that matches nothing."""


class PipelineFailed(LlamaDataError):
    """A Beam job that failed as a whole (bad records never do this; they are counted)."""


class ErrorBudgetExceeded(LlamaDataError):
    """A job whose unreadable records (and processing failures) exceed ``--max-error-rate`` of the
    records read: its output is not swapped into the release."""


class EmptyResult(LlamaDataError):
    """A job that read records but kept none (and was not run with ``--allow-empty``)."""


class NotPostsDump(InputError):
    """A StackExchange input that holds no posts: an archive without ``Posts.xml`` (another table
    of a site, e.g. ``stackoverflow.com-Comments.7z``) or a file name that names no site."""

    reason = "not_a_posts_dump"


class UnsafeArchiveMember(InputError):
    """An archive member that could write or read outside its repository if extracted (absolute
    path, ``..``, a link, a device or fifo): refused, and the rest of the archive is read."""

    reason = "unsafe_archive_member"


class DecompressionBomb(InputError):
    """An archive that expands past its caps (bytes actually decompressed, or files): reading it
    stops there, what came before kept."""

    reason = "expanded_size_over_limit"


class FileTooLarge(InputError):
    """A file over its reader's size cap (a "book" of more than 64 MiB is a concatenation or
    garbage): not read into memory, and the rest of its archive is read."""

    reason = "file_too_large"


class NotABook(InputError):
    """A record of a mixed dump that is not of a book collection (The Pile's JSON lines carry all
    22 of its sets): a books job was pointed at other data."""

    reason = "not_a_book"
