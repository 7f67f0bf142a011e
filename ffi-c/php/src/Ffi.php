<?php

declare(strict_types=1);

namespace Ksef;

use FFI as PhpFfi;
use FFI\CData;

/**
 * Loads the ksef C library (`libksef_ffi.so`) and holds the one `FFI` instance every class
 * of this package uses; also the helpers for the C ABI's conventions (result codes, the
 * last error, owned buffers, `(ptr, len)` inputs).
 *
 * Where the library comes from, first match wins:
 * 1. the scope `KSEF` when the library was preloaded (`opcache.preload` script calling
 *    {@see Ffi::preload()}) — the only way under PHP-FPM with the default `ffi.enable=preload`;
 * 2. the path given to {@see Ffi::load()};
 * 3. the environment variable `KSEF_LIB`;
 * 4. `libksef_ffi.so` through the dynamic linker's search path (`LD_LIBRARY_PATH`,
 *    `/usr/local/lib` after `ldconfig`).
 *
 * The declarations come from `ksef_php.h` (the C header without preprocessor lines): the
 * environment variable `KSEF_HEADER`, else `ksef_php.h` beside this package's `src/`
 * (a distribution copies it there), else `include/ksef_php.h` of the ksef source tree.
 */
final class Ffi
{
    /** The FFI scope name used by `#define FFI_SCOPE` in ksef_php.h. */
    public const SCOPE = 'KSEF';

    /** The default library name (resolved by the dynamic linker). */
    public const DEFAULT_LIB = 'libksef_ffi.so';

    private static ?PhpFfi $ffi = null;

    private function __construct()
    {
    }

    /** The loaded library, loading it on first use (see the class doc for the order). */
    public static function get(): PhpFfi
    {
        return self::$ffi ?? self::load();
    }

    /**
     * Loads the library (and replaces the one loaded before). With no arguments the
     * preloaded scope is used when there is one.
     *
     * @param string|null $library path of libksef_ffi.so (default: `KSEF_LIB`, then the name)
     * @param string|null $header  path of ksef_php.h (default: see the class doc)
     */
    public static function load(?string $library = null, ?string $header = null): PhpFfi
    {
        if ($library === null && $header === null) {
            try {
                return self::$ffi = PhpFfi::scope(self::SCOPE);
            } catch (\Throwable) {
                // not preloaded: load it below
            }
        }
        $library ??= self::libraryPath();
        $code = self::readHeader($header ?? self::headerPath());
        // FFI::cdef does not read preprocessor lines: drop the FFI_SCOPE / FFI_LIB defines.
        $code = (string) preg_replace('/^#define .*$/m', '', $code);
        try {
            return self::$ffi = PhpFfi::cdef($code, $library);
        } catch (\FFI\Exception $e) {
            $hint = str_contains($e->getMessage(), 'ffi.enable')
                ? 'web requests may use FFI only from preloaded code: see "Enabling FFI" in README.md'
                : 'set KSEF_LIB to the path of libksef_ffi.so';
            throw new \RuntimeException("cannot load the ksef library '$library': {$e->getMessage()} ($hint)", 0, $e);
        }
    }

    /**
     * For an `opcache.preload` script: loads the library into the scope `KSEF` with
     * `FFI::load`, so that web requests can use it with `ffi.enable=preload` (the default).
     * The header is copied with `FFI_LIB` set to `$library` when one is given.
     *
     * @param string|null $library absolute path of libksef_ffi.so (default: `KSEF_LIB`, then
     *                             the name resolved by the dynamic linker)
     * @param string|null $header  path of ksef_php.h
     */
    public static function preload(?string $library = null, ?string $header = null): void
    {
        $header ??= self::headerPath();
        $library ??= self::libraryPath();
        $code = self::readHeader($header);
        if ($library !== self::DEFAULT_LIB) {
            $code = (string) preg_replace(
                '/^#define FFI_LIB .*$/m',
                '#define FFI_LIB ' . json_encode($library, JSON_UNESCAPED_SLASHES),
                $code,
            );
            $dir = sys_get_temp_dir() . '/ksef-php-' . getmyuid();
            if (!is_dir($dir) && !mkdir($dir, 0700, true) && !is_dir($dir)) {
                throw new \RuntimeException("cannot create $dir");
            }
            $header = $dir . '/ksef_php.' . md5($code) . '.h';
            if (file_put_contents($header, $code) === false) {
                throw new \RuntimeException("cannot write $header");
            }
        }
        $ffi = PhpFfi::load($header);
        if ($ffi === null) {
            throw new \RuntimeException("FFI::load($header) failed");
        }
        self::$ffi = $ffi;
    }

    /** The library path or name used when none is given: `KSEF_LIB`, else `libksef_ffi.so`. */
    public static function libraryPath(): string
    {
        $env = getenv('KSEF_LIB');
        return is_string($env) && $env !== '' ? $env : self::DEFAULT_LIB;
    }

    /** The header used when none is given (see the class doc). */
    public static function headerPath(): string
    {
        $env = getenv('KSEF_HEADER');
        if (is_string($env) && $env !== '') {
            return $env;
        }
        $beside = dirname(__DIR__) . '/ksef_php.h';
        if (is_file($beside)) {
            return $beside;
        }
        return dirname(__DIR__, 3) . '/include/ksef_php.h';
    }

    private static function readHeader(string $path): string
    {
        $code = is_file($path) ? file_get_contents($path) : false;
        if ($code === false) {
            throw new \RuntimeException("cannot read the ksef header '$path' (set KSEF_HEADER)");
        }
        return $code;
    }

    /** The library version (`"0.1.0"`). */
    public static function version(): string
    {
        // FFI converts a returned `const char *` to a PHP string (null for NULL).
        return (string) self::get()->ksef_version();
    }

    /** The stable short name of a result code (`"invalid_value"`), null when unknown. */
    public static function resultName(int $code): ?string
    {
        $name = self::get()->ksef_result_name($code);
        return is_string($name) ? $name : null;
    }

    /**
     * Throws the last error as a {@see KsefException} when `$rc` is not `KSEF_OK`.
     *
     * @throws KsefException
     */
    public static function check(int $rc): void
    {
        if ($rc !== 0) {
            throw self::lastError($rc);
        }
    }

    /**
     * The last error of this thread as an exception (the one the failing call left).
     *
     * @param int $rc the code the failing call returned (used when no last error is recorded)
     */
    public static function lastError(int $rc): KsefException
    {
        $ffi = self::get();
        $out = $ffi->new('ksef_buffer*');
        $err = null;
        if ($ffi->ksef_last_error_json(PhpFfi::addr($out)) === 0 && !PhpFfi::isNull($out)) {
            $err = json_decode(self::takeBuffer($out), true);
        }
        if (!is_array($err)) {
            $err = ['code' => $rc, 'name' => self::resultName($rc) ?? 'unknown', 'message' => 'failed'];
        }
        return KsefException::fromError($err);
    }

    /** The bytes of an owned `ksef_buffer*`, which is freed. */
    public static function takeBuffer(CData $buffer): string
    {
        $ffi = self::get();
        try {
            $len = $ffi->ksef_buffer_len($buffer);
            return $len === 0 ? '' : PhpFfi::string($ffi->ksef_buffer_data($buffer), $len);
        } finally {
            $ffi->ksef_buffer_free($buffer);
        }
    }

    /**
     * Calls `$fn($outPtr)` with a `ksef_buffer**` out-parameter, checks the result and
     * returns the buffer's bytes (freed).
     *
     * @param callable(CData): int $fn
     * @throws KsefException
     */
    public static function callBuffer(callable $fn): string
    {
        $out = self::get()->new('ksef_buffer*');
        self::check($fn(PhpFfi::addr($out)));
        return PhpFfi::isNull($out) ? '' : self::takeBuffer($out);
    }

    /**
     * As {@see callBuffer()}, decoding the buffer as a JSON object or array.
     *
     * @param callable(CData): int $fn
     * @return array<mixed>
     * @throws KsefException
     */
    public static function callJson(callable $fn): array
    {
        return self::decode(self::callBuffer($fn));
    }

    /**
     * Decodes JSON the library returned.
     *
     * @return array<mixed>
     */
    public static function decode(string $json): array
    {
        $v = json_decode($json, true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
        return is_array($v) ? $v : ['value' => $v];
    }

    /**
     * JSON text for the library: a string is passed as it is (the library checks it), an
     * array or object is encoded (UTF-8, slashes and Unicode unescaped).
     *
     * @param string|array<mixed>|\JsonSerializable $value
     */
    public static function json(string|array|\JsonSerializable $value): string
    {
        if (is_string($value)) {
            return $value;
        }
        try {
            return json_encode(
                $value,
                JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION,
            );
        } catch (\JsonException $e) {
            // E.g. a string that is not UTF-8: the same code the library uses for it.
            throw KsefException::fromError([
                'code' => 107,
                'name' => 'encoding',
                'path' => '',
                'message' => 'cannot encode the value as JSON: ' . $e->getMessage(),
            ]);
        }
    }

    /**
     * A PHP string as `const uint8_t *` (copied; PHP passes strings without a copy only to
     * `char *` parameters). Null for the empty string (NULL with length 0 is the empty input).
     */
    public static function bytes(string $data): ?CData
    {
        $n = strlen($data);
        if ($n === 0) {
            return null;
        }
        $buf = self::get()->new("uint8_t[$n]");
        PhpFfi::memcpy($buf, $data, $n);
        return $buf;
    }
}
