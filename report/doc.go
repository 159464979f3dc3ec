// Package report renders an analyze.Summary: the per-connection table and
// sentences people read, the JSON Lines contract scripts read, and the
// labelled packet timeline. It owns formatting only; it decides nothing about
// what a packet is. tablewriter is imported here and nowhere else.
package report
