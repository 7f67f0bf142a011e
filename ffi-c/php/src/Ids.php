<?php

declare(strict_types=1);

namespace Ksef;

use FFI as PhpFfi;

/**
 * Identifiers and hashes: NIP and KSeF number checks, SHA-256 of invoice bytes (the hash
 * KSeF records and KOD I links carry). All static, no state.
 */
final class Ids
{
    private function __construct()
    {
    }

    /**
     * Checks a NIP (10 plain digits with a valid checksum; separators are refused).
     *
     * @throws InvalidInputException code 105 (invalid_value), path `nip`
     */
    public static function checkNip(string $nip): void
    {
        Ffi::check(Ffi::get()->ksef_nip_check($nip, strlen($nip)));
    }

    /** Whether a NIP is valid (see {@see checkNip()}). */
    public static function isValidNip(string $nip): bool
    {
        return Ffi::get()->ksef_nip_check($nip, strlen($nip)) === 0;
    }

    /**
     * Checks a KSeF number (`NIP-YYYYMMDD-XXXXXXXXXXXX-CC`, 35 characters, CRC-8).
     *
     * @throws InvalidInputException code 400 (ksef_number), path `number`
     */
    public static function checkKsefNumber(string $number): void
    {
        Ffi::check(Ffi::get()->ksef_ksef_number_check($number, strlen($number)));
    }

    /** Whether a KSeF number is valid (see {@see checkKsefNumber()}). */
    public static function isValidKsefNumber(string $number): bool
    {
        return Ffi::get()->ksef_ksef_number_check($number, strlen($number)) === 0;
    }

    /** SHA-256 of `$data` as 32 raw bytes. */
    public static function sha256(string $data): string
    {
        $ffi = Ffi::get();
        $hash = $ffi->new('uint8_t[32]');
        Ffi::check($ffi->ksef_sha256(Ffi::bytes($data), strlen($data), $hash));
        return PhpFfi::string($hash, 32);
    }

    /** SHA-256 of `$data` as 64 lowercase hex digits. */
    public static function sha256Hex(string $data): string
    {
        return bin2hex(self::sha256($data));
    }

    /**
     * SHA-256 of `$data` as Base64 (padded, 44 characters: the form KSeF's JSON uses) or,
     * with `$urlSafe`, Base64URL without padding (43 characters: the form in KOD I links).
     */
    public static function sha256Base64(string $data, bool $urlSafe = false): string
    {
        $ffi = Ffi::get();
        $buf = $ffi->new('char[45]');
        $len = $ffi->new('size_t');
        Ffi::check($ffi->ksef_sha256_base64(
            Ffi::bytes($data),
            strlen($data),
            $urlSafe,
            $buf,
            45,
            PhpFfi::addr($len),
        ));
        return PhpFfi::string($buf, $len->cdata);
    }
}
