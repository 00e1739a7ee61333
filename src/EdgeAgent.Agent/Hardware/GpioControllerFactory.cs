using System.Device.Gpio;

namespace EdgeAgent.Agent.Hardware;

/// <summary>Creates the GPIO controller; tests pass one over a simulated driver. It may throw where no GPIO chip exists.</summary>
public delegate GpioController GpioControllerFactory();
