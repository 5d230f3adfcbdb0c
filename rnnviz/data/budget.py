"""What one student action may cost the server, and the size limits derived from it.

Many students share one server with about 1 GB of memory, so no single action (an upload,
a checkpoint, pressing Train) may make the process grow by more than
:data:`MAX_ACTION_BYTES`. Every limit on an upload-driven size is derived from that one
number here, and checked *before* the tensors, arrays or strings it bounds are built.
The byte counts per element were measured with torch 2.13 on CPU (peak RSS).
"""
from __future__ import annotations

MAX_ACTION_BYTES = 100_000_000
"""The most one student action may add to the server's memory."""

FLOAT_BYTES = 4  # float32 weights and activations
INDEX_BYTES = 8  # int64 character indices (what torch's embedding and one_hot take)

# --- models --------------------------------------------------------------------------------------------

BYTES_PER_TRAINED_PARAMETER = 4 * FLOAT_BYTES
"""A weight being trained with Adam: the weight, its gradient and Adam's two running moments."""

MAX_MODEL_PARAMETERS = MAX_ACTION_BYTES // BYTES_PER_TRAINED_PARAMETER
"""6.25 million: the largest model whose training state alone fills the budget."""

# --- checkpoints -----------------------------------------------------------------------------------------

MAX_CHECKPOINT_METADATA_BYTES = 1_000_000
"""The pickled part of a checkpoint (metadata, vocabulary, tensor headers); real ones are < 20 kB."""

MAX_CHECKPOINT_BYTES = MAX_MODEL_PARAMETERS * FLOAT_BYTES + MAX_CHECKPOINT_METADATA_BYTES
"""26 MB: the largest allowed model's weights plus its metadata. Loading one holds the uploaded
bytes, the loaded tensors and the model built from them: three times this, under the budget."""

MAX_CHECKPOINT_RECORDS = 64
"""Files inside a checkpoint archive: one per tensor (a 4-layer LSTM has 18) plus 6 of torch's own."""

# --- zip archives ------------------------------------------------------------------------------------------

MAX_ZIP_MEMBERS = 1_000
"""Entries of an uploaded or downloaded zip (the tutorial's data.zip has fewer than 50). Checked from the
archive's end record before Python parses its directory, which costs about 0.5 kB per entry."""

MAX_ZIP_DIRECTORY_BYTES = 1_000_000
"""The zip's central directory (the list of entries), read into memory to open the archive."""

MAX_COMPRESSION_RATIO = 100
"""Text compresses 3-10 times; a member unpacking to 100 times its packed size is a zip bomb."""

COMPRESSION_RATIO_MIN_BYTES = 1_000_000
"""Members smaller than this are not judged by their ratio (a 10 kB run of spaces is not a bomb)."""

MAX_EXTRACTED_BYTES = MAX_ACTION_BYTES // 4
"""Unpacked bytes read from one archive into memory (the 18 names files are 0.2 MB, the lyrics 0.2 MB)."""

# --- texts ---------------------------------------------------------------------------------------------------

CORPUS_BYTES_PER_CHAR = INDEX_BYTES + 4 + 1 + 1
"""A character of a prepared corpus: its int64 index, up to 4 bytes in the decoded str, 1 in the uploaded
bytes and 1 in the UTF-8 copy hashed to name it."""

MAX_CORPUS_CHARS = 3_500_000
"""Characters of a text to learn; about half the budget at CORPUS_BYTES_PER_CHAR (Tiny Shakespeare: 1.1 million)."""

MAX_UPLOAD_MB = 5
"""An uploaded text file, in the megabytes Streamlit's ``file_uploader(max_upload_size=...)`` takes."""

MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1_000_000

MAX_NAMES_ZIP_MB = 10
"""An uploaded names zip (the tutorial's data.zip, with its English-French pairs, is 2.8 MB)."""

MAX_NAMES_ZIP_BYTES = MAX_NAMES_ZIP_MB * 1_000_000

MAX_NAMES_TEXT_BYTES = 2_000_000
"""The 18 language files together (the tutorial's are 0.2 MB)."""

MAX_NAMES = 100_000
"""Names in the 18 files together (the tutorial has 20,074); each costs about 0.5 kB once cleaned."""

MAX_NAME_CHARS = 50
"""Characters of one cleaned name (the longest of the tutorial's has 20): batches pad to the longest."""

MAX_UPLOAD_WIDGET_MB = max(MAX_UPLOAD_MB, MAX_NAMES_ZIP_MB, -(-MAX_CHECKPOINT_BYTES // 1_000_000))
"""The largest of the app's upload limits in megabytes: ``server.maxUploadSize`` must be at least this."""

assert MAX_CORPUS_CHARS * CORPUS_BYTES_PER_CHAR <= MAX_ACTION_BYTES // 2
assert 3 * MAX_CHECKPOINT_BYTES <= MAX_ACTION_BYTES
