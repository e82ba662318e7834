using Anpm.Abstractions;
using Anpm.Signing;
using Anpm.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Anpm.Tensors;

namespace Anpm.Oracle.Tests;

public sealed class OracleRegistrationTests
{
    private const string Contract = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    private static readonly string Model = Path.Combine(AppContext.BaseDirectory, "models", "digits.onnx");

    [Fact]
    public void AddOracleNode_ResolvesTheRunnerWithItsBackendSignerAndSource()
    {
        using var key = EthereumKey.Generate();
        var hex = typeof(EthereumKey).GetField("_privateKey", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(key) as byte[];
        using var provider = new ServiceCollection()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddSigning(o => o.VerifyingContract = Contract)
                .AddOracleNode(n => n.KeyHex = Convert.ToHexStringLower(hex!), b => { b.Models["digits"] = Model; b.Device = ExecutionDevice.Cpu; }, r => r.MaxBatchSize = 4)
                .AddHttpTaskSource(new Uri("http://127.0.0.1:5000/"), "demo"))
            .BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<OracleRunner>(Assert.Single(provider.GetServices<IHostedService>()));
        Assert.Equal(key.Address, provider.GetRequiredService<AttestationSigner>().Oracle);
        Assert.Same(provider.GetRequiredService<OnnxInferenceBackend>(), provider.GetRequiredService<IInferenceBackend>());
        Assert.IsType<HttpOracleTaskSource>(provider.GetRequiredService<IOracleTaskSource>());
    }

    [Fact]
    public void AddOracleNode_InvalidOptions_NamedAtStart()
    {
        using var provider = new ServiceCollection()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddSigning(o => o.VerifyingContract = Contract)
                .AddOracleNode(n => { }, b => b.Models["qwen"] = "/nonexistent.onnx", r => r.MaxConcurrency = 0))
            .BuildServiceProvider();
        var error = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        var messages = string.Join(" | ", error.InnerExceptions.Select(e => e.Message));
        Assert.Contains("set exactly one of KeyFile, KeyHex and Signer", messages, StringComparison.Ordinal);
        Assert.Contains("Models[qwen]: file '/nonexistent.onnx' does not exist", messages, StringComparison.Ordinal);
        Assert.Contains("MaxConcurrency must be 1 to 256, not 0", messages, StringComparison.Ordinal);
    }

    /// <summary>A vendor's own engine: answers every request with a fixed canonical output.</summary>
    private sealed class ConstantBackend : IInferenceBackend
    {
        public ValueTask<InferenceResult> RunAsync(InferenceRequest request, CancellationToken cancellationToken = default)
        {
            const string output = "{\"outputs\":{}}";
            return new(new InferenceResult(output, ModelIo.OutputHash(output)));
        }
    }

    [Fact]
    public async Task AddOracleNode_WithAVendorBackend_NoOnnxOptionsNeeded()
    {
        using var provider = new ServiceCollection()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddSigning(o => o.VerifyingContract = Contract)
                .AddOracleNode<ConstantBackend>(n => n.KeyHex = "0x" + new string('1', 64))
                .AddHttpTaskSource(new Uri("http://127.0.0.1:5000/"), "demo"))
            .BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var backend = Assert.IsType<ConstantBackend>(provider.GetRequiredService<IInferenceBackend>());
        Assert.Null(provider.GetService<OnnxInferenceBackend>());
        Assert.Equal(ModelIo.OutputHash("{\"outputs\":{}}"), (await backend.RunAsync(new InferenceRequest("m", "0x", "{}"))).OutputHash);
        Assert.IsType<OracleRunner>(Assert.Single(provider.GetServices<IHostedService>()));
    }

    [Fact]
    public async Task AddOracleNode_WithAnExternalSigner_InsteadOfAKey()
    {
        var signer = await NethereumExternalSigner.CreateAsync(new Anpm.Testing.FakeKms("0x" + new string('3', 64)));
        using var provider = new ServiceCollection()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddSigning(o => o.VerifyingContract = Contract)
                .AddOracleNode(n => n.Signer = signer, b => { b.Models["digits"] = Model; b.Device = ExecutionDevice.Cpu; })
                .AddHttpTaskSource(new Uri("http://127.0.0.1:5000/"), "demo"))
            .BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(signer.Address, provider.GetRequiredService<AttestationSigner>().Oracle);

        using var both = new ServiceCollection()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddSigning(o => o.VerifyingContract = Contract)
                .AddOracleNode(n => (n.Signer, n.KeyHex) = (signer, "0x" + new string('1', 64)), b => b.Models["digits"] = Model))
            .BuildServiceProvider();
        Assert.Contains("set exactly one of KeyFile, KeyHex and Signer", Assert.Throws<OptionsValidationException>(() => both.GetRequiredService<IStartupValidator>().Validate()).Message, StringComparison.Ordinal);
    }
}
