// Package capture reads packets and decodes them into analyze.Segments.
//
// It owns the packet sources (pcap, pcapng and gzip files or stdin through
// small pure-Go readers of its own, pcapread.go and ngread.go, whose memory
// is bounded whatever a hostile file declares; live interfaces through an
// AF_PACKET socket with its filter in the kernel), filter expressions
// (bpfc, with libpcap behind the libpcap build tag), the mapping from link
// type to first layer, the hand-decoded fast path and the reused
// DecodingLayerParser. It classifies nothing: what a segment
// means is analyze's business. gopacket is imported here and nowhere else.
package capture
