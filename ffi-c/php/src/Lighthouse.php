<?php

declare(strict_types=1);

namespace Ksef;

use FFI\CData;

/**
 * Latarnia, KSeF's public status service: is KSeF available?
 *
 * ```php
 * $s = Ksef\Lighthouse::status('https://api-latarnia-test.ksef.mf.gov.pl');
 * if ($s['status'] !== 'AVAILABLE') { $engine->setKsefStatus($s['status']); }
 * ```
 */
final class Lighthouse
{
    /**
     * `GET {url}/status`.
     *
     * @return array<mixed> `{"status": "AVAILABLE"|"MAINTENANCE"|"FAILURE"|"TOTAL_FAILURE",
     *                      "messages": [...], "failures": [{"announced", "ended"}]}`
     * @throws NetworkException when Latarnia cannot be reached
     */
    public static function status(string $url): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_lighthouse_status($url, strlen($url), $o));
    }
}
