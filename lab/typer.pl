#!/usr/bin/perl
# lab/typer.pl SEED CHARS PAUSE_EVERY PAUSE_MIN PAUSE_MAX [TAIL]: "types" CHARS
# characters to stdout one at a time, like a person: 80-600 ms between keys, and
# after every PAUSE_EVERY-th key (0: never) a pause of PAUSE_MIN..PAUSE_MAX s.
# Then a newline and ^D, and it exits after TAIL more seconds (default 1).
# Seeded, so a run is reproducible; bounded (CHARS keys, then it exits).
use strict;
use warnings;
use Time::HiRes qw(sleep);
my ($seed, $n, $every, $pmin, $pmax, $tail) = @ARGV;
$tail //= 1;
srand($seed);
$| = 1;
my @text = split //, "ls -la /tmp; echo the quick brown fox jumps over the lazy dog";
sleep 1.5;    # let the session come up
for my $i (0 .. $n - 1) {
	print $text[$i % @text];
	my $gap = 0.08 + rand(0.52);
	$gap = $pmin + rand($pmax - $pmin) if $every > 0 && $i % $every == $every - 1;
	sleep $gap;
}
print "\n";
sleep 0.5;
print "\x04";
sleep $tail;
