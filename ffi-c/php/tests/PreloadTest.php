<?php

declare(strict_types=1);

namespace Ksef\Tests;

use PHPUnit\Framework\TestCase;

/**
 * The README's "Enabling FFI" claims, checked with `php-cgi` (a web SAPI: with the default
 * `ffi.enable=preload` it restricts FFI as PHP-FPM does, unlike the CLI).
 */
final class PreloadTest extends TestCase
{
    /**
     * Runs `php-cgi` with the ini settings on a script that uses the library.
     *
     * @param list<string> $ini
     */
    private function runCgi(array $ini, array $env = []): string
    {
        $cgi = trim((string) shell_exec('command -v php-cgi'));
        if ($cgi === '') {
            $this->fail('php-cgi is missing (make php-test installs it)');
        }
        $lib = (string) getenv('KSEF_LIB');
        $this->assertFileExists($lib);
        $script = tempnam(sys_get_temp_dir(), 'ksef-web-') . '.php';
        file_put_contents($script, '<?php
if (!class_exists("Ksef\\\\Ffi", false)) { require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . '; }
try {
    echo Ksef\\Ids::isValidNip("5265877635") ? "valid" : "invalid", " ", Ksef\\Ids::sha256Hex("abc"), "\\n";
    Ksef\\Ids::checkNip("123");
} catch (Ksef\\KsefException $e) {
    echo "code ", $e->getCode(), " at ", $e->getPath(), "\\n";
} catch (Throwable $e) {
    echo get_class($e), ": ", $e->getMessage(), "\\n";
}');
        chmod($script, 0644);
        $cmd = [$cgi, '-q', '-n', '-d', 'extension=ffi', '-d', 'zend_extension=opcache'];
        foreach ($ini as $i) {
            $cmd[] = '-d';
            $cmd[] = $i;
        }
        $cmd[] = '-f';
        $cmd[] = $script;
        $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + [
            'KSEF_LIB' => $lib,
            'LD_LIBRARY_PATH' => dirname($lib),
            'PATH' => (string) getenv('PATH'),
        ]);
        $this->assertIsResource($p);
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        proc_close($p);
        unlink($script);
        return (string) $out;
    }


    public function testWebSapiRefusesFfiWithoutPreloading(): void
    {
        $out = $this->runCgi(['ffi.enable=preload']);
        $this->assertStringContainsString('restricted by "ffi.enable"', $out);
        $this->assertStringNotContainsString('valid', $out);
    }

    public function testPreloadScriptWithFfiPreloadWorksInTheWebSapi(): void
    {
        $ini = [
            'ffi.enable=preload',
            'opcache.enable=1',
            'ffi.preload=' . TestEnv::root() . '/include/ksef_php.h',
            'opcache.preload=' . dirname(__DIR__) . '/preload.php',
        ];
        if (function_exists('posix_getuid') && posix_getuid() === 0) {
            $ini[] = 'opcache.preload_user=nobody';
        }
        $out = $this->runCgi($ini);
        $this->assertStringContainsString(
            "valid ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\ncode 105 at nip",
            $out,
        );
    }

    public function testFfiEnableTrueWorksEverywhere(): void
    {
        $out = $this->runCgi(['ffi.enable=true']);
        $this->assertStringContainsString("code 105 at nip", $out);
    }
}
