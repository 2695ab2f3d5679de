"""Document-level near-duplicate detection (books): MinHash signatures, LSH banding, exact
verification and clusters, as pure pieces a Beam pipeline keys and groups."""
