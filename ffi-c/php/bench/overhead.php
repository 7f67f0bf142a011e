<?php

/**
 * The per-call cost of the FFI path (PHP -> C -> Rust), for comparison with the same
 * operations in Rust (`cargo bench -p ksef-ffi --bench overhead`; figures in
 * docs/BENCHMARKS.md).
 *
 *   KSEF_LIB=target/release/libksef_ffi.so php ffi-c/php/bench/overhead.php [iterations]
 *
 * Each line: the median over 7 runs of ns per call. The 1 KB input is the first 1024 bytes
 * of the official sample FA_3_Przyklad_01.xml (KSEF_SPEC, default ../shared/ksef-spec).
 */

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';

use Ksef\Ffi;
use Ksef\Ids;

$n = (int) ($argv[1] ?? 200000);
$spec = getenv('KSEF_SPEC') ?: dirname(__DIR__, 4) . '/shared/ksef-spec';
$sample = "$spec/samples/fa3/FA_3_Przyklad_01.xml";
$xml = file_get_contents($sample);
if ($xml === false || strlen($xml) < 1024) {
    fwrite(STDERR, "cannot read 1 KB of $sample (set KSEF_SPEC)\n");
    exit(1);
}
$data = substr($xml, 0, 1024);
$nip = '5265877635';
$ffi = Ffi::get();

/** The median ns per call of $f over $n calls, 7 runs. */
function measure(int $n, callable $f): float
{
    $runs = [];
    for ($r = 0; $r < 7; $r++) {
        $t = hrtime(true);
        $f($n);
        $runs[] = (hrtime(true) - $t) / $n;
    }
    sort($runs);
    return $runs[3];
}

// The operations must give the right answers before they are timed.
if ($ffi->ksef_nip_check($nip, 10) !== 0 || Ids::sha256($data) !== hash('sha256', $data, true)) {
    fwrite(STDERR, "self-check failed\n");
    exit(1);
}
$cdata = $ffi->new('uint8_t[1024]');
\FFI::memcpy($cdata, $data, 1024);
$hash = $ffi->new('uint8_t[32]');

$cases = [
    'empty PHP loop (baseline)' => static function (int $n): void {
        for ($i = 0; $i < $n; $i++) {
        }
    },
    'ksef_version() via FFI (bare call)' => static function (int $n) use ($ffi): void {
        for ($i = 0; $i < $n; $i++) {
            $ffi->ksef_version();
        }
    },
    'ksef_nip_check via FFI' => static function (int $n) use ($ffi, $nip): void {
        for ($i = 0; $i < $n; $i++) {
            $ffi->ksef_nip_check($nip, 10);
        }
    },
    'Ids::isValidNip (library class)' => static function (int $n) use ($nip): void {
        for ($i = 0; $i < $n; $i++) {
            Ids::isValidNip($nip);
        }
    },
    'ksef_sha256 1 KB via FFI (data already in C memory)' => static function (int $n) use ($ffi, $cdata, $hash): void {
        for ($i = 0; $i < $n; $i++) {
            $ffi->ksef_sha256($cdata, 1024, $hash);
        }
    },
    'Ids::sha256 1 KB (library class: copy in, hash, string out)' => static function (int $n) use ($data): void {
        for ($i = 0; $i < $n; $i++) {
            Ids::sha256($data);
        }
    },
    "PHP's own hash('sha256') 1 KB (reference)" => static function (int $n) use ($data): void {
        for ($i = 0; $i < $n; $i++) {
            hash('sha256', $data, true);
        }
    },
];

printf("PHP %s, ksef %s, %d calls x 7 runs (median)\n", PHP_VERSION, Ffi::version(), $n);
foreach ($cases as $name => $f) {
    printf("%-62s %9.1f ns/call\n", $name, measure($n, $f));
}
