/* Bytes that arrive (this path) and leave (the egress path) through the interface, each in its
 * own counter, and both together in a third one that the two paths share. Bytes are whole
 * frames, Ethernet header included. */

/* Defined here and shared: the egress path declares it "extern" and adds to the same map. */
BPF_TABLE_SHARED("array", int, u64, TOTAL_BYTES, 1);
BPF_ARRAY(INGRESS_BYTES, u64, 1);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)
{
	int key = 0;
	u64 *bytes;

	bytes = INGRESS_BYTES.lookup(&key);
	if (bytes)
		__sync_fetch_and_add(bytes, md->packet_len);
	bytes = TOTAL_BYTES.lookup(&key);
	if (bytes)
		__sync_fetch_and_add(bytes, md->packet_len);
	return RX_OK;
}
