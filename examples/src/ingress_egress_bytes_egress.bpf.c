/* The egress half of ingress_egress_bytes: bytes that leave through the interface, added to
 * this path's own counter and to the total that the ingress path defines. */

/* The ingress path's map, not a new one. */
BPF_TABLE("extern", int, u64, TOTAL_BYTES, 1);
BPF_ARRAY(EGRESS_BYTES, u64, 1);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)
{
	int key = 0;
	u64 *bytes;

	bytes = EGRESS_BYTES.lookup(&key);
	if (bytes)
		__sync_fetch_and_add(bytes, md->packet_len);
	bytes = TOTAL_BYTES.lookup(&key);
	if (bytes)
		__sync_fetch_and_add(bytes, md->packet_len);
	return RX_OK;
}
